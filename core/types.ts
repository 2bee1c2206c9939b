/**
 * The shared vocabulary of ModelVet's analysis: positions, findings and fixes.
 * Positions are 0-based and count UTF-16 code units, exactly like LSP, so the
 * server can hand them to the editor without conversion.
 */

export type Severity = 'error' | 'warning' | 'information' | 'hint';
export const SEVERITY_ORDER: Record<Severity, number> = { hint: 0, information: 1, warning: 2, error: 3 };

export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }
export interface TextEdit { range: Range; newText: string }

export interface Fix {
  /** Shown in the editor's light-bulb menu, e.g. "Replace 'pytorch' with 'torch'". */
  title: string;
  /** Edits to the finding's own file. */
  edits: TextEdit[];
  /** Safe to apply without review (the editor's "auto fix" candidate). */
  isPreferred?: boolean;
  /**
   * A fix whose edits must be computed later (e.g. a Hub commit SHA): the server
   * resolves it in `codeAction/resolve`. `edits` is empty until then.
   */
  resolve?: { kind: string; data: unknown };
}

export interface Finding {
  /** File path (absolute, or relative to the CLI's working directory in reports). */
  path: string;
  range: Range;
  /** Stable rule code, e.g. DEP001. */
  code: string;
  severity: Severity;
  message: string;
  fixes: Fix[];
  /** For notebooks: the cell index the range refers to (range is cell-relative). */
  cell?: number;
  /** Free-form details for hovers (markdown). */
  detail?: string;
  /** Machine-readable extras for the server (e.g. package name, repo id). */
  data?: Record<string, unknown>;
  /** Other places that belong to this one cause (LSP relatedInformation); `path` defaults to the finding's. */
  related?: RelatedLocation[];
}

export interface RelatedLocation { path?: string; range: Range; message: string }

export function range(sl: number, sc: number, el: number, ec: number): Range {
  return { start: { line: sl, character: sc }, end: { line: el, character: ec } };
}

export function compareFindings(a: Finding, b: Finding): number {
  return (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
    || (a.cell ?? -1) - (b.cell ?? -1)
    || a.range.start.line - b.range.start.line
    || a.range.start.character - b.range.start.character
    || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
}
