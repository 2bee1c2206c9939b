import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  escapeHtml, contentSecurityPolicy, formatBytes, renderModelFilePage, renderReportPage, sortReports, verdictLabel, hexDump,
  MAX_TENSOR_ROWS, PREVIEW_BYTES, type WebviewAssets,
} from '../../../client/src/render';
import type { FileReport } from '../../../core/scan/types';

const assets: WebviewAssets = { cspSource: 'vscode-webview://abc', nonce: 'N0nce+/=', styleUri: 'vscode-webview://abc/media/webview.css', scriptUri: 'vscode-webview://abc/media/webview.js' };

function report(over: Partial<FileReport> = {}): FileReport {
  return { path: '/ws/model.pt', format: 'pytorch-zip', verdict: 'safe', findings: [], globals: [], sha256: 'ab'.repeat(32), size: 2048, ...over };
}

const HOSTILE = '<img src=x onerror=alert(1)>"\'&';

test('escapeHtml neutralises every HTML metacharacter', () => {
  assert.equal(escapeHtml(HOSTILE), '&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
  assert.equal(escapeHtml(42), '42');
});

test('the CSP allows nothing but our stylesheet and the nonce-tagged script', () => {
  assert.equal(contentSecurityPolicy('vscode-webview://abc', 'xyz'), "default-src 'none'; style-src vscode-webview://abc; script-src 'nonce-xyz';");
  const html = renderReportPage([], assets);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src vscode-webview:\/\/abc; script-src &#39;nonce-N0nce\+\/=&#39;;">/);
  assert.match(html, /<script nonce="N0nce\+\/=" src="vscode-webview:\/\/abc\/media\/webview.js"><\/script>/);
  assert.doesNotMatch(html, /<style|style="|http:|https:/, 'no inline styles, no remote content');
});

test('hostile names from a scanned file are escaped in the model-file page', () => {
  const r = report({
    tensors: [{ name: HOSTILE, dtype: 'F32', shape: [2, 3], bytes: 24 }],
    metadata: { [HOSTILE]: HOSTILE },
    findings: [{ code: 'PKL001', severity: 'critical', message: HOSTILE, location: { member: HOSTILE }, evidence: HOSTILE }],
    globals: [{ module: HOSTILE, name: 'system', status: 'dangerous' }],
  });
  const html = renderModelFilePage({ path: `/ws/${HOSTILE}.pt`, report: r, convertible: true }, assets);
  assert.ok(!html.includes('<img'), 'no raw tag from the file');
  assert.ok(!html.includes('onerror=alert(1)>'), 'attribute-breaking text escaped');
  assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
  assert.ok(html.includes('id="tensor-table"'));
  assert.ok(html.includes('[2, 3]'));
  assert.ok(html.includes('id="convert"'));
});

test('the tensor table stops at MAX_TENSOR_ROWS and says how many were left out', () => {
  const n = MAX_TENSOR_ROWS + 7;
  const tensors = Array.from({ length: n }, (_, i) => ({ name: `t${i}`, dtype: 'F16', shape: [1], bytes: 2 }));
  const html = renderModelFilePage({ path: '/ws/big.safetensors', report: report({ format: 'safetensors', tensors }), convertible: false }, assets);
  const rows = html.match(/<tr><td><code>t\d+<\/code>/g) ?? [];
  assert.equal(rows.length, MAX_TENSOR_ROWS);
  assert.ok(html.includes(`… 7 more tensors not shown.`));
  assert.ok(html.includes(`${n} tensors`));
  assert.ok(!html.includes('id="convert"'), 'no convert button when not convertible');
});

test('loading and error states render without a report', () => {
  const loading = renderModelFilePage({ path: '/ws/a.pkl', loading: true, convertible: false }, assets);
  assert.match(loading, /Scanning a\.pkl…/);
  assert.match(loading, /id="rescan" data-command="rescan" disabled/);
  const failed = renderModelFilePage({ path: '/ws/a.pkl', error: `boom ${HOSTILE}`, convertible: false }, assets);
  assert.match(failed, /Could not scan this file: boom &lt;img/);
});

test('an unscannable verdict never reads as safe', () => {
  assert.doesNotMatch(verdictLabel('unscannable'), /^safe/i);
  assert.match(verdictLabel('unscannable'), /not proven safe/);
});

test('the report lists worst verdicts first and counts each verdict', () => {
  const files = [
    report({ path: '/ws/b-safe.pt' }),
    report({ path: '/ws/z-bad.pkl', verdict: 'malicious', format: 'pickle' }),
    report({ path: '/ws/a-odd.bin', verdict: 'unscannable' }),
    report({ path: '/ws/m-sus.pkl', verdict: 'suspicious' }),
  ];
  assert.deepEqual(sortReports(files).map((f) => f.path), ['/ws/z-bad.pkl', '/ws/m-sus.pkl', '/ws/a-odd.bin', '/ws/b-safe.pt']);
  const html = renderReportPage(files, assets);
  assert.ok(html.includes('4 files: 1 malicious, 1 suspicious, 1 unscannable, 1 safe.'));
  assert.ok(html.indexOf('/ws/z-bad.pkl') < html.indexOf('/ws/b-safe.pt'));
  assert.ok(html.includes('data-verdict="malicious"'));
  assert.ok(html.includes('data-command="open" data-path="/ws/z-bad.pkl"'));
  const relative = renderReportPage(files, assets, (p) => p.replace('/ws/', ''));
  assert.ok(relative.includes('title="/ws/z-bad.pkl">z-bad.pkl</a>'), 'heading shows the short path, link keeps the full one');
});

test('the report shows each model file\'s signature state (escaped), when its folder is signed', () => {
  const files = [report({ path: '/ws/bert/model.safetensors' }), report({ path: '/ws/other/w.pt' })];
  const states: Record<string, { signature: string; verified: boolean; summary?: string; unchecked?: boolean }> = {
    '/ws/bert/model.safetensors': { signature: '/ws/bert/model.sig', verified: false, summary: `changed: config.json; ${HOSTILE}` },
  };
  const html = renderReportPage(files, assets, (p) => p.replace('/ws/', ''), (p) => states[p]);
  assert.match(html, /Signature NOT verified \(<code>bert\/model\.sig<\/code>\): changed: config\.json; &lt;img/);
  assert.equal((html.match(/class="signature/g) ?? []).length, 1, 'unsigned folders get no line');
  const ok = renderReportPage(files, assets, (p) => p, (p) => (p.startsWith('/ws/bert/') ? { signature: '/ws/bert/model.sig', verified: true } : undefined));
  assert.match(ok, /Signature verified: <code>\/ws\/bert\/model\.sig<\/code>/);
  const unchecked = renderReportPage(files, assets, (p) => p, (p) => (p.startsWith('/ws/bert/') ? { signature: '/ws/bert/model.sig', verified: false, unchecked: true, summary: 'not checked: no key or CA configured' } : undefined));
  assert.match(unchecked, /class="signature unchecked">Signed \(<code>\/ws\/bert\/model\.sig<\/code>\), not checked: no key or CA configured/);
  assert.doesNotMatch(unchecked, /NOT verified/, 'not checked is not a failure');
});

test('formatBytes picks binary units and rejects nonsense', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.50 KiB');
  assert.equal(formatBytes(10 * 1024 ** 3), '10.0 GiB');
  assert.equal(formatBytes(-1), '?');
  assert.equal(formatBytes(Number.NaN), '?');
});

test('a report whose sha256 is still being computed says so instead of showing an empty hash', () => {
  const html = renderModelFilePage({ path: '/ws/huge.safetensors', report: report({ sha256: '' }), convertible: false }, assets);
  assert.match(html, /computing in the background/);
  const done = renderModelFilePage({ path: '/ws/huge.safetensors', report: report(), convertible: false }, assets);
  assert.doesNotMatch(done, /computing in the background/);
  assert.ok(done.includes('ab'.repeat(32)));
});

test('a file whose content is no model gets a hex preview and the way back to the default editor', () => {
  const bytes = new TextEncoder().encode('<script>alert(1)</script> plain text, not a model\n');
  const html = renderModelFilePage({ path: '/ws/notes.bin', report: report({ path: '/ws/notes.bin', format: 'unknown', verdict: 'unscannable' }), convertible: false, preview: bytes }, assets);
  assert.match(html, /id="not-a-model"/);
  assert.match(html, /data-command="openDefault"/);
  assert.match(html, /<pre class="hexdump" id="hex-preview">00000000  3c 73 63 72/);
  assert.ok(!html.includes('<script>alert'), 'the preview is escaped');
  // A real model never shows the notice (the button to leave the view stays).
  const model = renderModelFilePage({ path: '/ws/m.pt', report: report(), convertible: true }, assets);
  assert.doesNotMatch(model, /id="not-a-model"/);
  assert.match(model, /data-command="openDefault"/);
});

test('hexDump: xxd-like rows, printable ASCII only, capped at PREVIEW_BYTES', () => {
  assert.equal(hexDump(new Uint8Array([0x80, 0x02, 0x41, 0x0a])), `00000000  ${'80 02 41 0a'.padEnd(47)}  ..A.`);
  assert.equal(hexDump(new Uint8Array(17).fill(0x41)).split('\n')[1], `00000010  ${'41'.padEnd(47)}  A`);
  const big = hexDump(new Uint8Array(10_000));
  assert.equal(big.split('\n').length, PREVIEW_BYTES / 16);
});
