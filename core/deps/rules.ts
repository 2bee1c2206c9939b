/** The checks behind DEP001, DEP002, DEP004–DEP007 on format-independent entries and index options. */
import type { AnalysisContext } from '../analysis';
import type { Fix } from '../types';
import { advisoriesFor, compromisedReleases, maliciousPackages, type Advisory } from './advisories';
import { entryPinned, specEdit, type DepEntry, type FindingSink } from './model';
import { compareVersions, inOrderedRange, raiseFloor, specifierAllows, versionSatisfies } from './pep440';
import { checkPackageName } from './typosquat';
import type { Range } from '../types';

/** Conda names that are the same project as a PyPI name (for advisories). */
const CONDA_TO_PYPI: Record<string, string> = { pytorch: 'torch', 'py-xgboost': 'xgboost', 'tensorflow-base': 'tensorflow' };

export function checkEntry(e: DepEntry, sink: FindingSink, ctx: AnalysisContext): void {
  if (e.localPath) return;
  const confusion = checkNameConfusion(e, sink);
  checkMalicious(e, sink);
  // Pinning advice for a package that must be replaced or removed is noise.
  if (confusion === 'placeholder' || confusion === 'malicious' || (!e.conda && maliciousPackages.has(e.norm))) return;
  if (e.url) checkDirectUrl(e.url.url, e.url.range, e, sink, ctx);
  else {
    checkPinning(e, sink, ctx);
    checkCompromised(e, sink, ctx);
    checkAdvisories(e, sink, ctx);
  }
}

function data(e: DepEntry, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { package: e.norm, ...extra };
}

function checkNameConfusion(e: DepEntry, sink: FindingSink): string | undefined {
  if (e.conda || !e.nameExplicit || maliciousPackages.has(e.norm)) return undefined;
  const c = checkPackageName(e.name);
  if (!c) return undefined;
  const fix: Fix = { title: `Replace '${e.name}' with '${c.intended}'`, edits: [{ range: e.nameRange, newText: c.intended }], isPreferred: c.kind === 'placeholder' || c.kind === 'malicious' };
  let message: string;
  let severity: 'error' | 'warning' = 'warning';
  if (c.kind === 'malicious') {
    severity = 'error';
    message = `'${e.name}' is a known malicious package imitating '${c.intended}'; use '${c.intended}'`;
  } else if (c.kind === 'placeholder') {
    message = `'${e.name}' is a placeholder name, not the real project: install '${c.intended}'`;
  } else {
    message = `'${e.name}' looks like a typosquat of the popular package '${c.intended}' (${c.reason})`;
  }
  sink.add('DEP001', severity, e.nameRange, message, { fixes: [fix], detail: c.source ? `Source: ${c.source}` : undefined, data: data(e, { intended: c.intended, kind: c.kind }) });
  return c.kind;
}

function checkMalicious(e: DepEntry, sink: FindingSink): void {
  const m = e.conda ? undefined : maliciousPackages.get(e.norm);
  if (!m) return;
  sink.add('DEP006', 'error', e.nameRange, `'${e.name}' is a known malicious package (${m.summary}); remove it`, { detail: `Source: ${m.source}`, data: data(e) });
}

/** The version this entry will install for sure: an exact pin, else the workspace lockfile's. */
function effectiveVersion(e: DepEntry, ctx: AnalysisContext): { version: string; how: 'pins' | 'locked' } | undefined {
  const pinned = entryPinned(e);
  if (pinned) return { version: pinned, how: 'pins' };
  const locked = ctx.project?.lockedVersions.get(e.norm);
  if (locked && versionSatisfies(locked, e.spec)) return { version: locked, how: 'locked' };
  return undefined;
}

function checkPinning(e: DepEntry, sink: FindingSink, ctx: AnalysisContext): void {
  if (entryPinned(e)) return;
  const shown = e.spec ? `${e.name}${e.spec}` : e.name;
  if (e.context !== 'application') {
    const what = e.spec ? 'is a range' : 'has no version constraint';
    const where = e.context === 'library'
      ? "in a library's pyproject.toml that is normal (pin exact versions in the application's lockfile instead)"
      : 'in a pip-compile input (.in) file that is normal: the compiled requirements file pins it';
    sink.add('DEP002', 'hint', e.specRange ?? e.nameRange, `'${shown}' ${what}; ${where}`, { data: data(e) });
    return;
  }
  const offline = offlinePin(e, ctx);
  const known = offline?.version;
  const fixes: Fix[] = [];
  if (offline) {
    const edit = specEdit(e, `==${offline.version}`);
    if (edit) fixes.push({ title: `Pin '${e.name}' to ==${offline.version} (from ${offline.source})`, edits: [edit], isPreferred: true });
  }
  // Online only: the server fills "{version}" from the package index when the fix is picked (never during diagnostics).
  if (!fixes.length && ctx.config.online.enabled && !e.conda) {
    const template = specEdit(e, '=={version}');
    if (template) fixes.push({ title: `Pin '${e.name}' to the newest version on the index`, edits: [], resolve: { kind: 'index-pin', data: { package: e.norm, path: sink.path, spec: e.spec, editTemplate: [template] } } });
  }
  // In the file's own words: a Pipfile pins with `name = "==1.2.3"`, Poetry with `name = "1.2.3"`.
  const how = e.specFormat === 'pipfile' ? `pin it with ${e.name} = "==<version>"` : e.specFormat === 'poetry' ? `pin it with an exact version (${e.name} = "<version>")` : 'pin it with ==';
  const message = e.spec
    ? `'${shown}' is loosely pinned: each install may resolve a different (or hijacked) release; ${how}`
    : `'${e.name}' is not pinned: any future (or hijacked) release will be installed; ${how}`;
  // The hover says why there is no pin fix (what was looked at), so the user knows what would give one.
  const todo = fixes.length ? undefined : `Pin with ==: no version of '${e.name}'${e.spec ? ` in ${e.spec}` : ''} is known offline (lockfile, active or workspace environment${e.conda ? '' : ', pip/uv cache'})${ctx.config.online.enabled || e.conda ? '' : '; with online features on, the fix can ask the package index'}`;
  sink.add('DEP002', 'warning', e.specRange ?? e.nameRange, message, { fixes, data: data(e, { ...(known ? { version: known } : {}), ...(todo ? { todo } : {}) }) });
}

/**
 * The version to pin an unpinned entry to without the network, in order of trust: the workspace
 * lockfile, the active / workspace environment's installed version, the newest matching version in
 * the local pip or uv cache. Undefined when none satisfies the entry's range.
 */
export function offlinePin(e: DepEntry, ctx: AnalysisContext): { version: string; source: string } | undefined {
  const p = ctx.project;
  if (!p) return undefined;
  const locked = p.lockedVersions.get(e.norm);
  if (locked && versionSatisfies(locked, e.spec)) return { version: locked, source: 'the lockfile' };
  const installed = p.installedVersions.get(e.norm);
  if (installed && versionSatisfies(installed, e.spec)) return { version: installed, source: p.installedSource?.(e.norm) ?? 'the installed environment' };
  if (e.conda) return undefined; // a pip cache says nothing about conda builds
  const cached = p.cachedVersions?.(e.norm);
  const v = cached?.versions.find((x) => !/(a|b|rc|dev)\d*$|\.dev\d*|[+]/.test(x) && versionSatisfies(x, e.spec));
  return v ? { version: v, source: cached!.source } : undefined;
}

function checkCompromised(e: DepEntry, sink: FindingSink, ctx: AnalysisContext): void {
  const rel = e.conda ? undefined : compromisedReleases.get(e.norm);
  if (!rel) return;
  const eff = effectiveVersion(e, ctx);
  const target = e.specRange ?? e.nameRange;
  const fixes: Fix[] = [];
  if (rel.fixed) {
    const edit = specEdit(e, raiseFloor(e.spec, rel.fixed));
    if (edit) fixes.push({ title: `Require ${e.name} ${raiseFloor(e.spec, rel.fixed)}`, edits: [edit], isPreferred: true });
  }
  if (eff && rel.versions.includes(eff.version)) {
    const verb = eff.how === 'pins' ? 'pins' : `is locked at`;
    sink.add('DEP006', 'error', target, `'${e.name}' ${verb} ${eff.version}, a compromised release (${rel.summary})`, { fixes, detail: `Source: ${rel.source}`, data: data(e, { version: eff.version }) });
    return;
  }
  if (!eff && e.spec) {
    const allowed = rel.versions.filter((v) => versionSatisfies(v, e.spec));
    if (allowed.length) sink.add('DEP006', 'warning', target, `'${e.name}${e.spec}' allows compromised release${allowed.length > 1 ? 's' : ''} ${allowed.join(', ')} (${rel.summary})`, { fixes, detail: `Source: ${rel.source}`, data: data(e) });
  }
}

function affects(a: Advisory, version: string): boolean {
  return a.versions.includes(version) || a.affected.some((r) => inOrderedRange(version, r));
}

function checkAdvisories(e: DepEntry, sink: FindingSink, ctx: AnalysisContext): void {
  const pkg = e.conda ? CONDA_TO_PYPI[e.norm] ?? e.norm : e.norm;
  const advisories = advisoriesFor(pkg, ctx.config.osvDbPaths);
  if (!advisories.length) return;
  const eff = effectiveVersion(e, ctx);
  let matching: Advisory[];
  let verb: string;
  if (eff) {
    matching = advisories.filter((a) => affects(a, eff.version));
    verb = eff.how === 'pins' ? `pins ${eff.version}` : `is locked at ${eff.version}`;
  } else if (e.spec) {
    matching = advisories.filter((a) => specifierAllows(e.spec, a.affected) || a.versions.some((v) => versionSatisfies(v, e.spec)));
    verb = `allows versions`;
  } else return;
  if (!matching.length) return;
  const fixedTarget = firstSafeVersion(matching, advisories);
  const fixes: Fix[] = [];
  if (fixedTarget) {
    const newSpec = raiseFloor(e.spec, fixedTarget);
    const edit = specEdit(e, newSpec);
    if (edit) fixes.push({ title: entryPinned(e) ? `Pin '${e.name}' to ${newSpec}` : `Raise the lower bound: ${e.name}${newSpec}`, edits: [edit], isPreferred: true });
  }
  const ids = matching.map((a) => a.id).join(', ');
  const first = matching[0];
  const more = matching.length > 1 ? ` (+${matching.length - 1} more)` : '';
  const message = `'${e.name}${eff ? '' : e.spec}' ${verb} affected by ${ids}: ${first.summary}${more}${fixedTarget ? `; fixed in ${fixedTarget}` : ''}`;
  const detail = matching.map((a) => `- ${a.id}${a.aliases.length ? ` (${a.aliases.join(', ')})` : ''}: ${a.summary}; affected ${a.affected.join(' | ') || a.versions.join(', ')}${a.fixed ? `, fixed in ${a.fixed}` : ''}`).join('\n');
  sink.add('DEP007', eff ? 'error' : 'warning', e.specRange ?? e.nameRange, message, { fixes, detail, data: data(e, { version: eff?.version, advisories: matching.map((a) => a.id), fixed: fixedTarget }) });
}

/** The highest fixed version among `matching`, bumped past any other advisory that also affects it. */
function firstSafeVersion(matching: Advisory[], all: Advisory[]): string | undefined {
  let target: string | undefined;
  for (const a of matching) if (a.fixed && (!target || compareVersions(a.fixed, target) > 0)) target = a.fixed;
  for (let round = 0; target && round < 8; round++) {
    const still = all.find((a) => a.fixed && affects(a, target!) && compareVersions(a.fixed, target!) > 0);
    if (!still) break;
    target = still.fixed;
  }
  return target;
}

/**
 * DEP009 for the second requirement `b` of a project already required as `a` (same marker):
 * a conflict (no version satisfies both) is an error without a fix; an exact duplicate is a warning
 * whose (preferred) fix removes `b`; two different constraints are a warning (review the removal).
 */
export function checkDuplicatePair(a: DepEntry, b: DepEntry, where: string, sink: FindingSink, removeFix?: Fix, extra: Record<string, unknown> = {}): void {
  const related = [{ range: a.range, message: `'${a.name}${a.spec}' is first required here` }];
  const pa = entryPinned(a);
  const pb = entryPinned(b);
  const conflict = (pa && pb && pa !== pb) || (pa && b.spec && !versionSatisfies(pa, b.spec)) || (pb && a.spec && !versionSatisfies(pb, a.spec));
  const d = data(b, extra);
  if (conflict) {
    sink.add('DEP009', 'error', b.range, `'${b.name}${b.spec}' conflicts with '${a.name}${a.spec}' on ${where}: no version satisfies both, so pip stops with a resolution error; keep one`, { related, data: d });
  } else if (a.spec === b.spec && (a.url?.url ?? '') === (b.url?.url ?? '')) {
    sink.add('DEP009', 'warning', b.range, `'${b.name}${b.spec}' is already required on ${where}; remove the duplicate`, { fixes: removeFix ? [{ ...removeFix, isPreferred: true }] : [], related, data: d });
  } else {
    sink.add('DEP009', 'warning', b.range, `'${b.name}' is required twice ('${a.name}${a.spec}' on ${where}, '${b.name}${b.spec}' here): pip combines both; keep one with the constraint you mean`, { fixes: removeFix ? [removeFix] : [], related, data: d });
  }
}

export function hostOf(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/:?#]+)/i.exec(url);
  return m ? m[1] : url;
}

const HEX_COMMIT = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/i;

/** DEP005 for a direct URL or VCS reference. */
export function checkDirectUrl(url: string, range: Range, e: DepEntry, sink: FindingSink, ctx?: AnalysisContext): void {
  if (/^file:/i.test(url)) return;
  const host = hostOf(url);
  const vcs = /^(git|hg|svn|bzr)\+/i.exec(url);
  if (vcs) {
    const noFragment = url.replace(/#.*$/, '');
    const hostEnd = /^[a-z+]+:\/\/[^/]*/i.exec(noFragment)?.[0].length ?? 0;
    const afterHost = noFragment.slice(hostEnd);
    const at = afterHost.lastIndexOf('@');
    const ref = at >= 0 ? afterHost.slice(at + 1) : '';
    if (ref && HEX_COMMIT.test(ref)) return;
    const what = ref ? `ref '${ref}' is a branch or tag that can move` : 'no ref: it installs whatever the default branch holds';
    const repoUrl = at >= 0 ? noFragment.slice(0, hostEnd + at) : noFragment;
    // The edit replaces the ref (or inserts one) inside the URL text, when the range is exactly that text.
    const exact = range.start.line === range.end.line && range.end.character - range.start.character === url.length;
    // Replace the ref (after '@'), or insert '@<sha>' where the URL's path ends (before any '#fragment').
    const refStart = at >= 0 ? hostEnd + at + 1 : noFragment.length;
    const refEnd = noFragment.length;
    const editFor = (sha: string) => ({ range: { start: { line: range.start.line, character: range.start.character + refStart }, end: { line: range.start.line, character: range.start.character + refEnd } }, newText: at >= 0 ? sha : `@${sha}` });
    const fixes: Fix[] = [];
    if (exact && vcs[1].toLowerCase() === 'git') {
      const known = ctx?.project?.vcsCommit?.(repoUrl, ref || undefined);
      if (known) fixes.push({ title: `Pin to commit ${known.commit.slice(0, 12)} (${ref ? `'${ref}'` : 'the default branch'} in ${known.source})`, edits: [editFor(known.commit)], isPreferred: true });
      else if (ctx?.config.online.enabled && /^git\+(https?|ssh|git):\/\//i.test(repoUrl)) {
        // Online only, when the fix is picked: `git ls-remote` asks the repository (server/src/vcsPin.ts).
        fixes.push({ title: `Pin to the commit ${ref ? `'${ref}'` : 'the default branch'} points to now (asks the repository)`, edits: [], resolve: { kind: 'vcs-commit', data: { url: repoUrl.replace(/^git\+/i, ''), ref: ref || undefined, editTemplate: [editFor('{commit}')] } } });
      }
    }
    const todo = fixes.length ? undefined : `Write @<full commit SHA>: ${ref ? `'${ref}'` : 'the default branch'} was found in no lockfile or local clone${ctx?.config.online.enabled ? '' : '; with online features on, the fix can ask the repository (git ls-remote)'}`;
    sink.add('DEP005', 'warning', range, `${vcs[1]} dependency '${e.name}' from ${host} is not pinned to a commit (${what}); use @<full commit SHA>`, { fixes, data: data(e, { host, ...(ref ? { ref } : {}), ...(todo ? { todo } : {}) }) });
    return;
  }
  if (e.hashed || /#(?:.*&)?(sha256|sha384|sha512)=[0-9a-f]+/i.test(url)) return;
  const http = /^http:/i.test(url);
  sink.add('DEP005', http ? 'error' : 'warning', range, `direct URL dependency '${e.name}' from ${host}${http ? ' over plain http' : ''} has no hash: the file can be replaced without notice; add #sha256=… or --hash`, { data: data(e, { host }) });
}

export type IndexOption = '--index-url' | '--extra-index-url' | '--trusted-host' | '--find-links';

/** DEP004 for pip index options (also used for notebooks and TOML index tables, with `label` in that file's words). */
export function checkIndexOption(option: IndexOption, value: string, range: Range, sink: FindingSink, label: string = option): void {
  const host = hostOf(value);
  const http = /^http:\/\//i.test(value);
  if (option === '--trusted-host') {
    sink.add('DEP004', 'warning', range, `${label} ${value} turns off TLS certificate checks for ${value}: anyone on the network path can serve packages`, { data: { host: value } });
    return;
  }
  if (option === '--extra-index-url') {
    sink.add('DEP004', http ? 'error' : 'warning', range, `${label} ${host}${http ? ' (plain http)' : ''}: pip merges this index with the default one and takes the highest version from either, so a public package can shadow a private or nightly-only name (dependency confusion, as with torchtriton); use --index-url with a single index or a per-package explicit index`, { data: { host } });
    return;
  }
  if (http) sink.add('DEP004', 'error', range, `${label} uses plain http (${host}): packages can be swapped in transit; use https`, { data: { host } });
}
