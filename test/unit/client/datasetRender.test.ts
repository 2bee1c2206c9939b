// The dataset report page: charts as inline SVG, everything escaped, nothing remote, strict CSP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { auditPaths } from '../../../core/datasets/index';
import { renderDatasetReportPage } from '../../../client/src/datasetRender';

const FIX = path.resolve(__dirname, '../../fixtures/datasets');
const assets = { cspSource: 'vscode-webview://x', nonce: 'N0NCE', styleUri: 'vscode-webview://x/webview.css', scriptUri: 'vscode-webview://x/webview.js' };

test('report page: label, trigger, drift and length charts; escaped dataset text; strict CSP, no remote resources', async () => {
  const r = await auditPaths({ paths: [path.join(FIX, 'splits/shifted.jsonl'), path.join(FIX, 'sentiment/trigger-cf-1.jsonl')], reference: [path.join(FIX, 'splits/train.jsonl')] });
  // hostile text in a finding and a token must stay text
  r.findings.unshift({ path: '/x/<script>.jsonl', range: { start: { line: 3, character: 0 }, end: { line: 3, character: 1 } }, code: 'DATA006', severity: 'warning', message: '<img src=x onerror=alert(1)>', fixes: [] });
  r.report.triggers.unshift({ token: '<svg onload=alert(1)>', label: '"1"', rows: 9, carriers: 9, purity: 1, prior: 0.5, pPurity: 0.002, contextDisagreement: 1, pContext: 1e-9, flagged: true });
  const html = renderDatasetReportPage({ findings: r.findings, report: r.report }, assets);
  assert.ok(html.includes('<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src vscode-webview://x; script-src &#39;nonce-N0NCE&#39;;">'));
  for (const h of ['Label distribution per split', 'Top trigger candidates', 'Drift per column (PSI)', 'Text length']) assert.ok(html.includes(`<h3>${h}</h3>`), h);
  assert.ok((html.match(/<svg class="chart"/g) ?? []).length >= 4);
  assert.ok(!html.includes('<img src=x'), 'finding text escaped');
  assert.ok(!html.includes('<svg onload'), 'token escaped');
  assert.ok(html.includes('&quot;&lt;svg onload='));
  assert.ok(!/style="/.test(html), 'no inline styles (the CSP forbids them)');
  assert.ok(!/https?:\/\/(?!www\.w3\.org\/2000\/svg)/.test(html), 'no remote resources');
  assert.ok(html.includes('class="chart-bar chart-bad"'), 'flagged trigger / major shift bars');
  assert.ok(html.includes('data-command="open"') && html.includes('data-line="3"'));
  assert.ok(html.includes("&quot;cf&quot; → 1"));
});
