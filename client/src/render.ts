/**
 * HTML for the two webviews (scan report, model-file editor). Pure functions without `vscode` imports so
 * they are unit-tested. Everything from a scanned file (tensor names, metadata, global names, paths) is
 * attacker-controlled: it goes through escapeHtml, and the page's CSP forbids inline script/style and all
 * remote content, so even an escaping mistake cannot run code.
 */
import type { FileReport, GlobalRef, ScanFinding, Verdict } from '../../core/scan/types';

/** Rows rendered in one tensor table; a hostile header can declare millions of tensors. */
export const MAX_TENSOR_ROWS = 2_000;
/** Files listed in the report page. */
export const MAX_REPORT_FILES = 1_000;
/** Characters shown of one metadata value / evidence string before it is cut. */
export const MAX_VALUE_CHARS = 2_000;
/** Findings and globals listed per file. */
export const MAX_ITEMS_PER_FILE = 500;

export interface WebviewAssets {
  /** `webview.cspSource` */
  cspSource: string;
  /** Fresh random nonce for this page's script. */
  nonce: string;
  styleUri: string;
  scriptUri: string;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

function truncate(text: string, max = MAX_VALUE_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return `default-src 'none'; style-src ${cspSource}; script-src 'nonce-${nonce}';`;
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function verdictLabel(verdict: Verdict): string {
  switch (verdict) {
    case 'malicious': return 'Malicious';
    case 'suspicious': return 'Suspicious';
    case 'unscannable': return 'Unscannable (not proven safe)';
    case 'safe': return 'Safe';
    default: return String(verdict);
  }
}

/** A whole webview page: our CSP, stylesheet and nonce-tagged script around `body` (shared by every ModelVet webview). */
export function page(title: string, assets: WebviewAssets, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(assets.cspSource, assets.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(assets.styleUri)}">
<title>${escapeHtml(title)}</title>
</head>
<body>
${body}
<script nonce="${escapeHtml(assets.nonce)}" src="${escapeHtml(assets.scriptUri)}"></script>
</body>
</html>`;
}

function verdictBadge(verdict: Verdict): string {
  return `<span class="verdict verdict-${escapeHtml(verdict)}" data-verdict="${escapeHtml(verdict)}">${escapeHtml(verdictLabel(verdict))}</span>`;
}

function location(f: ScanFinding): string {
  const parts: string[] = [];
  if (f.location?.member) parts.push(`member ${f.location.member}`);
  if (typeof f.location?.offset === 'number') parts.push(`offset ${f.location.offset}`);
  if (typeof f.location?.opcodeIndex === 'number') parts.push(`opcode #${f.location.opcodeIndex}`);
  return parts.join(', ');
}

function findingsTable(findings: readonly ScanFinding[]): string {
  if (findings.length === 0) return '<p class="muted">No findings.</p>';
  const rows = findings.slice(0, MAX_ITEMS_PER_FILE).map((f) => `<tr class="finding severity-${escapeHtml(f.severity)}">
<td><code>${escapeHtml(f.code)}</code></td><td>${escapeHtml(f.severity)}</td><td>${escapeHtml(truncate(f.message))}</td>
<td>${escapeHtml(location(f))}</td><td>${f.evidence ? `<code>${escapeHtml(truncate(f.evidence))}</code>` : ''}</td></tr>`);
  const more = findings.length > MAX_ITEMS_PER_FILE ? `<p class="muted">… ${findings.length - MAX_ITEMS_PER_FILE} more findings not shown.</p>` : '';
  return `<table class="findings"><thead><tr><th>Code</th><th>Severity</th><th>Message</th><th>Location</th><th>Evidence</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>${more}`;
}

function globalsTable(globals: readonly GlobalRef[]): string {
  if (globals.length === 0) return '';
  const rows = globals.slice(0, MAX_ITEMS_PER_FILE).map((g) => `<tr class="global global-${escapeHtml(g.status)}">
<td><code>${escapeHtml(g.module)}.${escapeHtml(g.name)}</code></td><td>${escapeHtml(g.status)}</td><td>${g.member ? escapeHtml(g.member) : ''}</td></tr>`);
  const more = globals.length > MAX_ITEMS_PER_FILE ? `<p class="muted">… ${globals.length - MAX_ITEMS_PER_FILE} more globals not shown.</p>` : '';
  return `<h3>Globals referenced</h3><table class="globals"><thead><tr><th>Global</th><th>Status</th><th>Member</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>${more}`;
}

function tensorTable(report: FileReport): string {
  const tensors = report.tensors;
  if (!tensors || tensors.length === 0) return '<p class="muted">No tensors declared (or the format does not expose them).</p>';
  let total = 0;
  for (const t of tensors) total += Number.isFinite(t.bytes) ? t.bytes : 0;
  const rows = tensors.slice(0, MAX_TENSOR_ROWS).map((t) => `<tr><td><code>${escapeHtml(truncate(t.name, 300))}</code></td>
<td>${escapeHtml(t.dtype)}</td><td>[${Array.isArray(t.shape) ? t.shape.map((d) => escapeHtml(d)).join(', ') : ''}]</td><td class="num">${escapeHtml(formatBytes(t.bytes))}</td></tr>`);
  const more = tensors.length > MAX_TENSOR_ROWS ? `<p class="muted">… ${tensors.length - MAX_TENSOR_ROWS} more tensors not shown.</p>` : '';
  return `<p>${tensors.length} tensors, ${escapeHtml(formatBytes(total))} of data.</p>
<table class="tensors" id="tensor-table"><thead><tr><th>Name</th><th>dtype</th><th>Shape</th><th>Size</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>${more}`;
}

function metadataTable(metadata: Record<string, string> | undefined): string {
  const entries = metadata ? Object.entries(metadata) : [];
  if (entries.length === 0) return '<p class="muted">No metadata.</p>';
  const rows = entries.slice(0, MAX_ITEMS_PER_FILE).map(([k, v]) => `<tr><td><code>${escapeHtml(truncate(k, 300))}</code></td><td>${escapeHtml(truncate(String(v)))}</td></tr>`);
  return `<table class="metadata"><thead><tr><th>Key</th><th>Value</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function summaryList(report: FileReport): string {
  return `<dl class="summary">
<dt>Format</dt><dd data-field="format">${escapeHtml(report.format)}</dd>
<dt>Verdict</dt><dd>${verdictBadge(report.verdict)}</dd>
<dt>Size</dt><dd>${escapeHtml(formatBytes(report.size))} (${escapeHtml(report.size)} bytes)</dd>
<dt>SHA-256</dt><dd>${report.sha256 ? `<code class="sha">${escapeHtml(report.sha256)}</code>` : '<span class="muted">computing in the background…</span>'}</dd>
</dl>`;
}

export interface ModelFileViewState {
  /** The file being shown (display only). */
  path: string;
  report?: FileReport;
  /** Served from the server's cache (sha256 + engine version). */
  cached?: boolean;
  error?: string;
  loading?: boolean;
  /** Offer the Convert button (pickle-family formats). */
  convertible: boolean;
  /**
   * The file's first bytes (at most PREVIEW_BYTES), shown as a hex dump when its content matches no model
   * format (a `.bin` can be anything): the page then offers VS Code's default editor instead.
   */
  preview?: Uint8Array;
}

/** Bytes of a non-model file shown in the hex preview. */
export const PREVIEW_BYTES = 512;

/** `offset  hex bytes  ascii` lines, 16 bytes each, like `xxd`. */
export function hexDump(bytes: Uint8Array, max = PREVIEW_BYTES): string {
  const lines: string[] = [];
  const n = Math.min(bytes.length, max);
  for (let off = 0; off < n; off += 16) {
    const row = bytes.subarray(off, Math.min(off + 16, n));
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n');
}

/** The scanner recognised no model format in the file's content. */
export function isNotAModel(report: FileReport | undefined): boolean {
  return !!report && report.format === 'unknown';
}

/** Formats ModelVet can convert to SafeTensors (the converter itself decides whether the content allows it). */
export const CONVERTIBLE_FORMATS = new Set(['pickle', 'pytorch-zip', 'pytorch-legacy', 'numpy', 'npz', 'joblib']);

export function renderModelFilePage(state: ModelFileViewState, assets: WebviewAssets): string {
  const name = state.path.replace(/\\/g, '/').split('/').pop() ?? state.path;
  const buttons = `<div class="toolbar">
<button id="rescan" data-command="rescan"${state.loading ? ' disabled' : ''}>Rescan</button>
${state.convertible ? `<button id="convert" data-command="convert"${state.loading ? ' disabled' : ''}>Convert to SafeTensors</button>` : ''}
<button id="open-default" data-command="openDefault">Open with the default editor</button>
</div>`;
  let body: string;
  if (state.loading) {
    body = `<p class="muted" id="status">Scanning ${escapeHtml(name)}…</p>`;
  } else if (state.error !== undefined) {
    body = `<p class="error" id="status">Could not scan this file: ${escapeHtml(truncate(state.error))}</p>`;
  } else if (state.report) {
    const r = state.report;
    const notAModel = isNotAModel(r)
      ? `<section id="not-a-model"><p>The content of this file matches no model format ModelVet knows, so it is not proven safe to load
as a model. If it is not a model at all, open it with the default editor.</p>
${state.preview ? `<h2>First ${Math.min(state.preview.length, PREVIEW_BYTES)} bytes</h2><pre class="hexdump" id="hex-preview">${escapeHtml(hexDump(state.preview))}</pre>` : ''}</section>`
      : '';
    body = `${notAModel}${summaryList(r)}
${state.cached ? '<p class="muted">Result from the scan cache (same file hash, same engine version).</p>' : ''}
<h2>Findings</h2>${findingsTable(r.findings ?? [])}
<h2>Tensors</h2>${tensorTable(r)}
${globalsTable(r.globals ?? [])}
<h2>Metadata</h2>${metadataTable(r.metadata)}`;
  } else {
    body = '<p class="muted" id="status">No report.</p>';
  }
  return page(`ModelVet: ${name}`, assets, `<header><h1>${escapeHtml(name)}</h1><p class="muted path">${escapeHtml(state.path)}</p>${buttons}</header>
<main id="model-file-report">${body}</main>`);
}

const VERDICT_ORDER: Record<string, number> = { malicious: 0, suspicious: 1, unscannable: 2, safe: 3 };

/** Worst files first, then by path, so the report leads with what needs attention. */
export function sortReports(files: readonly FileReport[]): FileReport[] {
  return [...files].sort((a, b) => (VERDICT_ORDER[a.verdict] ?? 9) - (VERDICT_ORDER[b.verdict] ?? 9) || a.path.localeCompare(b.path));
}

/** `displayPath` shortens paths for headings (e.g. workspace-relative); links keep the absolute path. */
/** The OMS signature state of a model file's folder, as the report shows it (see SignatureState in core/protocol). */
export interface SignatureInfo { signature: string; verified: boolean; summary?: string; unchecked?: boolean }

function signatureLine(sig: SignatureInfo | undefined, displayPath: (p: string) => string): string {
  if (!sig) return '';
  if (sig.unchecked) return `<p class="signature unchecked">Signed (<code>${escapeHtml(displayPath(sig.signature))}</code>), ${escapeHtml(sig.summary ?? 'not checked')}</p>`;
  return sig.verified
    ? `<p class="signature verified">Signature verified: <code>${escapeHtml(displayPath(sig.signature))}</code></p>`
    : `<p class="signature not-verified">Signature NOT verified (<code>${escapeHtml(displayPath(sig.signature))}</code>): ${escapeHtml(sig.summary ?? 'see the Problems panel')}</p>`;
}

export function renderReportPage(files: readonly FileReport[], assets: WebviewAssets, displayPath: (p: string) => string = (p) => p,
  signatureFor: (file: string) => SignatureInfo | undefined = () => undefined): string {
  const counts: Record<string, number> = { malicious: 0, suspicious: 0, unscannable: 0, safe: 0 };
  for (const f of files) counts[f.verdict] = (counts[f.verdict] ?? 0) + 1;
  const sorted = sortReports(files);
  const sections = sorted.slice(0, MAX_REPORT_FILES).map((f) => `<section class="file verdict-border-${escapeHtml(f.verdict)}" data-path="${escapeHtml(f.path)}">
<h2><a href="#" class="open-file" data-command="open" data-path="${escapeHtml(f.path)}" title="${escapeHtml(f.path)}">${escapeHtml(displayPath(f.path))}</a> ${verdictBadge(f.verdict)}</h2>
<p class="muted">${escapeHtml(f.format)} · ${escapeHtml(formatBytes(f.size))} · sha256 <code class="sha">${escapeHtml(f.sha256)}</code></p>
${signatureLine(signatureFor(f.path), displayPath)}
${findingsTable(f.findings ?? [])}
${globalsTable(f.globals ?? [])}
</section>`);
  const more = sorted.length > MAX_REPORT_FILES ? `<p class="muted">… ${sorted.length - MAX_REPORT_FILES} more files not shown.</p>` : '';
  const body = files.length === 0
    ? '<p class="muted" id="empty">No scan results yet. Run “ModelVet: Scan Workspace Models”.</p>'
    : `<p id="totals">${files.length} files: ${counts.malicious} malicious, ${counts.suspicious} suspicious, ${counts.unscannable} unscannable, ${counts.safe} safe.</p>
${sections.join('\n')}${more}`;
  return page('ModelVet Scan Report', assets, `<header><h1>ModelVet Scan Report</h1>
<div class="toolbar"><button id="rescan-all" data-command="rescanWorkspace">Rescan Workspace</button></div></header>
<main id="scan-report">${body}</main>`);
}
