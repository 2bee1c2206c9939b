/** The format-independent view of one declared dependency that every DEP rule works on. */
import type { Finding, Fix, Range, RelatedLocation, Severity, TextEdit, Position } from '../types';
import { pinnedVersion } from './pep440';
import type { LineIndex } from '../text';

/** 'compile-input': a pip-compile / uv `*.in` file, whose ranges are pinned by the compiled output. */
export type EntryContext = 'application' | 'library' | 'compile-input';
/** How a new specifier is written back into this entry's format. */
export type SpecFormat = 'pep508' | 'poetry' | 'pipfile' | 'conda';

export interface DepEntry {
  /** As written. */
  name: string;
  /** PEP 503 normalized. */
  norm: string;
  nameRange: Range;
  /** False when the name came from `#egg=` or a file name, not from text the user typed as a name. */
  nameExplicit: boolean;
  /** PEP 440 specifier set ('' = no constraint). */
  spec: string;
  /** The exact version `spec` pins, when the parser already knows it (saves re-reading `spec`). */
  pinned?: string | null;
  /** Where the specifier text is (replaced by fixes), or where one would be inserted. */
  specRange?: Range;
  specInsertAt?: Position;
  specFormat: SpecFormat;
  /** Direct URL / VCS reference. */
  url?: { url: string; range: Range };
  /** A local path (editable `.`, `../pkg`, `{path = …}`): no pin or index rules apply. */
  localPath?: boolean;
  hashed: boolean;
  context: EntryContext;
  /** The whole requirement (for messages that concern the line). */
  range: Range;
  /** Conda packages live in another namespace: name rules do not apply. */
  conda?: boolean;
}

/** Collects findings for one file with shared path and helper constructors. */
export class FindingSink {
  readonly findings: Finding[] = [];
  constructor(readonly path: string) {}
  add(code: string, severity: Severity, range: Range, message: string, opts: { fixes?: Fix[]; detail?: string; data?: Record<string, unknown>; related?: RelatedLocation[] } = {}): void {
    const f: Finding = { path: this.path, range, code, severity, message, fixes: opts.fixes ?? [], detail: opts.detail, data: opts.data };
    if (opts.related?.length) f.related = opts.related;
    this.findings.push(f);
  }
}

/** `lines.rangeOf`, with each end clamped to its line (an offset inside a CRLF maps past the line's text). */
export function clampedRange(lines: LineIndex, start: number, end: number): Range {
  const clamp = (p: Position): Position => ({ line: p.line, character: Math.min(p.character, lines.lineEnd(p.line) - lines.starts[p.line]) });
  return { start: clamp(lines.positionAt(start)), end: clamp(lines.positionAt(Math.max(start, end))) };
}

/** The exact version an entry pins (`==X` / `===X`), or undefined. */
export function entryPinned(e: DepEntry): string | undefined {
  if (e.pinned !== undefined) return e.pinned ?? undefined;
  return pinnedVersion(e.spec);
}

/** The edit that writes `newSpec` (already in the entry's format) over the entry's specifier. */
export function specEdit(e: DepEntry, newSpec: string): TextEdit | undefined {
  if (e.specRange) return { range: e.specRange, newText: newSpec };
  if (e.specInsertAt) return { range: { start: e.specInsertAt, end: e.specInsertAt }, newText: newSpec };
  return undefined;
}
