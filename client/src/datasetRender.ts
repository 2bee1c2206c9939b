/**
 * The dataset audit report page: label distribution per split, top trigger candidates with their
 * purity, drift per column and text-length histograms as inline SVG, then the findings. Pure
 * functions (no `vscode` import) so tests can render pages. Everything from the dataset is escaped;
 * charts use presentation attributes and CSS classes only (the CSP allows no inline styles, no
 * remote resources, and only our nonce-checked script).
 */
import type { AuditDatasetResult } from '../../core/protocol';
import type { AuditReport } from '../../core/datasets/types';
import type { Finding } from '../../core/types';
import { escapeHtml, formatBytes, page, type WebviewAssets } from './render';

export const MAX_REPORT_FINDINGS = 500;
const W = 560;

function svg(height: number, body: string, label: string): string {
  return `<svg class="chart" role="img" aria-label="${escapeHtml(label)}" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" xmlns="http://www.w3.org/2000/svg">${body}</svg>`;
}

function text(x: number, y: number, s: string, cls = 'chart-text', anchor = 'start'): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" class="${cls}" text-anchor="${anchor}">${escapeHtml(s)}</text>`;
}

function bar(x: number, y: number, w: number, h: number, cls: string, title: string): string {
  return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(0, w).toFixed(1)}" height="${h}" class="${cls}"><title>${escapeHtml(title)}</title></rect>`;
}

const short = (s: string, n = 24) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

/** One group of bars per source: each label's share of the source's labelled rows. */
export function labelChart(report: AuditReport, name: (p: string) => string): string {
  const sources = report.sources.filter((s) => Object.keys(s.labels).length);
  if (!sources.length) return '';
  const labels = [...new Set(sources.flatMap((s) => Object.keys(s.labels)))].slice(0, 12);
  const rowH = 14, gap = 10, left = 150;
  let y = 4;
  const parts: string[] = [];
  for (const s of sources) {
    const total = Object.values(s.labels).reduce((a, b) => a + b, 0) || 1;
    parts.push(text(0, y + 11, short(`${s.split ?? ''}${s.split ? ' · ' : ''}${name(s.path)}`, 26), 'chart-text chart-strong'));
    y += rowH + 2;
    labels.forEach((l, i) => {
      const n = s.labels[l] ?? 0;
      const share = n / total;
      parts.push(text(left - 6, y + 11, short(l, 18), 'chart-text', 'end'));
      parts.push(bar(left, y + 2, (W - left - 70) * share, rowH - 3, `chart-bar chart-series-${i % 6}`, `${l}: ${n} rows (${(share * 100).toFixed(1)}%)`));
      parts.push(text(left + (W - left - 70) * share + 4, y + 11, `${(share * 100).toFixed(1)}%`));
      y += rowH;
    });
    y += gap;
  }
  return `<h3>Label distribution per split</h3>${svg(y, parts.join(''), 'Label distribution per split')}`;
}

/** Top trigger candidates: purity bars, flagged ones in the error colour, with p-values. */
export function triggerChart(report: AuditReport): string {
  const t = report.triggers.slice(0, 12);
  if (!t.length) return '';
  const rowH = 18, left = 130, right = 190;
  const parts: string[] = [];
  const span = W - left - right;
  // the purity axis starts at 0.8 (candidates below are not listed)
  const x = (p: number) => left + span * Math.max(0, (p - 0.8) / 0.2);
  t.forEach((c, i) => {
    const y = 4 + i * rowH;
    const flag = c.flagged || !!c.cleanLabel?.flagged;
    const cl = c.cleanLabel ? `; ${(c.cleanLabel.share * 100).toFixed(1)}% of its label's rows in ${c.cleanLabel.group} vs ${(c.cleanLabel.comparisonShare * 100).toFixed(2)}% elsewhere (p ${c.cleanLabel.pRare.toExponential(1)})` : '';
    parts.push(text(left - 6, y + 12, short(`"${c.token}" → ${c.label}`, 20), flag ? 'chart-text chart-flag' : 'chart-text', 'end'));
    parts.push(bar(left, y + 3, x(c.purity) - left, rowH - 6, flag ? 'chart-bar chart-bad' : 'chart-bar chart-series-0', `purity ${c.purity.toFixed(3)} over ${c.rows} rows; p(purity) ${c.pPurity.toExponential(1)}; context disagrees in ${(c.contextDisagreement * 100).toFixed(0)}% (p ${c.pContext.toExponential(1)})${cl}`));
    parts.push(text(W - right + 6, y + 12, `${c.purity.toFixed(2)} · ${c.carriers}/${c.rows} · ctx ${(c.contextDisagreement * 100).toFixed(0)}%${c.flagged ? ' · FLAGGED' : c.cleanLabel?.flagged ? ' · CLEAN-LABEL' : ''}`, flag ? 'chart-text chart-flag' : 'chart-text'));
  });
  const h = 4 + t.length * rowH + 16;
  parts.push(text(left, h - 3, '0.8'), text(left + span, h - 3, '1.0 purity', 'chart-text', 'end'));
  return `<h3>Top trigger candidates</h3><p class="muted">Purity of each token's label (axis from 0.8); flagged: purity and context tests pass with Benjamini–Hochberg control (DATA004); clean-label: pure, context agrees, and far more frequent in one split than in the rest (DATA015).</p>${svg(h, parts.join(''), 'Top trigger candidates')}`;
}

/** PSI per column (and label / length) for each split against its reference, with the 0.25 line. */
export function driftChart(report: AuditReport, name: (p: string) => string): string {
  if (!report.drift.length) return '';
  const out: string[] = [];
  for (const d of report.drift) {
    const rows: Array<[string, number]> = [];
    if (d.labelPsi !== undefined) rows.push(['label', d.labelPsi]);
    rows.push(['text length', d.lengthPsi]);
    for (const c of d.columns.slice(0, 12)) rows.push([c.name, c.psi]);
    const rowH = 16, left = 150, maxV = Math.max(0.5, ...rows.map((r) => r[1]));
    const span = W - left - 60;
    const parts: string[] = [];
    rows.forEach(([n, v], i) => {
      const y = 4 + i * rowH;
      parts.push(text(left - 6, y + 12, short(n, 20), 'chart-text', 'end'));
      parts.push(bar(left, y + 3, span * Math.min(1, v / maxV), rowH - 5, v >= 0.25 ? 'chart-bar chart-bad' : 'chart-bar chart-series-1', `${n}: PSI ${v.toFixed(3)}`));
      parts.push(text(left + span * Math.min(1, v / maxV) + 4, y + 12, v.toFixed(2)));
    });
    const h = 4 + rows.length * rowH + 14;
    const tx = left + span * (0.25 / maxV);
    parts.push(`<line x1="${tx.toFixed(1)}" y1="0" x2="${tx.toFixed(1)}" y2="${h - 14}" class="chart-threshold"><title>PSI 0.25: major shift</title></line>`, text(tx, h - 2, '0.25', 'chart-text', 'middle'));
    out.push(`<h4>${escapeHtml(name(d.source))} <span class="muted">vs ${escapeHtml(name(d.reference))}</span></h4>${svg(h, parts.join(''), `Drift of ${name(d.source)}`)}${d.newTokens.length ? `<p>New dominant tokens: ${d.newTokens.slice(0, 8).map((t) => `<code>${escapeHtml(t.token)}</code> ${(t.share * 100).toFixed(1)}% (ref ${(t.referenceShare * 100).toFixed(2)}%)`).join(', ')}</p>` : ''}`);
  }
  return `<h3>Drift per column (PSI)</h3>${out.join('')}`;
}

/** Text-length histogram per source (log2 bins). */
export function lengthChart(report: AuditReport, name: (p: string) => string): string {
  const parts: string[] = [];
  let y = 0;
  const srcs = report.sources.filter((s) => s.rows).slice(0, 6);
  if (!srcs.length) return '';
  for (const s of srcs) {
    const h = s.lengthHistogram;
    const max = Math.max(1, ...h);
    const bw = (W - 150) / h.length;
    parts.push(text(0, y + 30, short(name(s.path), 24), 'chart-text'));
    h.forEach((n, i) => { if (n) parts.push(bar(150 + i * bw, y + 40 - (36 * n) / max, bw - 1, (36 * n) / max, 'chart-bar chart-series-2', `about ${i === 0 ? 0 : Math.round(2 ** Math.floor((i - 1) / 2) * (1 + ((i - 1) % 2) / 2))}+ characters: ${n} rows`)); });
    y += 46;
  }
  return `<h3>Text length</h3>${svg(y, parts.join(''), 'Text length histograms')}`;
}

function findingsList(findings: readonly Finding[], name: (p: string) => string): string {
  if (!findings.length) return '<p>No findings.</p>';
  const rows = findings.slice(0, MAX_REPORT_FINDINGS).map((f) => `<tr class="sev-${escapeHtml(f.severity)}"><td><code>${escapeHtml(f.code)}</code></td><td>${escapeHtml(f.severity)}</td><td><a href="#" data-command="open" data-path="${escapeHtml(f.path)}" data-line="${f.range.start.line}" data-character="${f.range.start.character}">${escapeHtml(name(f.path))}:${f.range.start.line + 1}</a></td><td>${escapeHtml(f.message)}</td></tr>`);
  const more = findings.length > MAX_REPORT_FINDINGS ? `<p class="muted">… ${findings.length - MAX_REPORT_FINDINGS} more findings (use <code>modelvet audit-data --format json</code>).</p>` : '';
  return `<table class="findings"><thead><tr><th>code</th><th>severity</th><th>where</th><th>message</th></tr></thead><tbody>${rows.join('')}</tbody></table>${more}`;
}

export function renderDatasetReportPage(result: AuditDatasetResult, assets: WebviewAssets, name: (p: string) => string = (p) => p): string {
  const { report, findings } = result;
  const s = report.summary;
  const counts = Object.entries(s.findings).sort().map(([c, n]) => `${escapeHtml(c)} ×${n}`).join(', ');
  const sources = report.sources.map((x) => `<tr><td><a href="#" data-command="open" data-path="${escapeHtml(x.path)}" data-line="0">${escapeHtml(name(x.path))}</a></td><td>${escapeHtml(x.split ?? '')}${x.reference ? ' (reference)' : ''}</td><td>${escapeHtml(x.format)}</td><td class="num">${x.rows}</td><td class="num">${escapeHtml(formatBytes(x.bytes))}</td><td>${escapeHtml([x.roles.text.join('+'), x.roles.label ? `label=${x.roles.label}` : '', x.roles.messages ? `messages=${x.roles.messages}` : ''].filter(Boolean).join(' '))}</td><td><code class="sha">${escapeHtml(x.sha256 ?? '')}</code></td><td>${x.incomplete.map((r) => `<div class="${r.startsWith('sampled') ? 'muted' : 'error'}">${escapeHtml(r)}</div>`).join('')}</td></tr>`).join('');
  const body = `<header><h1>ModelVet Dataset Audit</h1></header>
<main id="dataset-report">
<p id="totals">${s.rows} rows in ${s.sources} file${s.sources === 1 ? '' : 's'} audited in ${s.seconds.toFixed(1)} s${s.incomplete ? ' — <strong class="error">incomplete</strong>' : ''}. ${findings.length} findings${counts ? ` (${counts})` : ''}.${s.labelNoiseEstimate !== undefined ? ` Label-noise estimate ${(s.labelNoiseEstimate * 100).toFixed(1)}%.` : ''}</p>
${s.approximate.length ? `<p class="muted">${s.approximate.map(escapeHtml).join('<br>')}</p>` : ''}
<table class="sources"><thead><tr><th>file</th><th>split</th><th>format</th><th>rows</th><th>size</th><th>roles</th><th>sha256</th><th>notes</th></tr></thead><tbody>${sources}</tbody></table>
${labelChart(report, name)}
${triggerChart(report)}
${driftChart(report, name)}
${lengthChart(report, name)}
<h3>Findings</h3>
${findingsList(findings, name)}
</main>`;
  return page('ModelVet Dataset Audit', assets, body);
}
