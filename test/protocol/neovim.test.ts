// The README's Neovim 0.7–0.9 snippet, verbatim, against Debian's Neovim (0.7.2), headless: the server
// started by that snippet publishes diagnostics to a client without pull-diagnostics support. Skipped
// when `nvim` is not installed (CI installs Debian's neovim).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const NVIM = process.env.MODELVET_NVIM ?? 'nvim';
const nvimVersion = spawnSync(NVIM, ['--version'], { encoding: 'utf8' });
const available = nvimVersion.status === 0;
const CLI = path.join(ROOT, 'bin', 'modelvet.js');
const TIMEOUT_MS = 60_000;

/** The README's lua blocks, in order. */
function readmeLuaBlocks(): string[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/```lua\n([\s\S]*?)```/g)].map((m) => m[1]);
}

const lua = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

test('README Neovim 0.7 snippet: headless Neovim gets pushed diagnostics from `modelvet lsp --stdio`', { skip: !available && 'nvim not installed', timeout: TIMEOUT_MS + 10_000 }, async () => {
  const blocks = readmeLuaBlocks();
  const legacy = blocks.find((b) => b.includes('vim.lsp.start_client'));
  assert.ok(legacy, 'the README has a vim.lsp.start_client snippet for Neovim < 0.10');
  assert.ok(blocks.some((b) => b.includes('vim.lsp.start(') && b.includes('vim.fs.root')), 'and one for Neovim 0.10+');
  const command = "{ 'modelvet', 'lsp', '--stdio' }";
  assert.ok(legacy.includes(command), 'the snippet starts `modelvet lsp --stdio`');
  assert.ok(existsSync(path.join(ROOT, 'dist', 'cli.js')), 'dist/cli.js is built (npm test builds first)');

  const dir = mkdtempSync(path.join(os.tmpdir(), 'modelvet-nvim-'));
  try {
    writeFileSync(path.join(dir, 'requirements.txt'), 'numpyy==1.26.4\ntorch\n');
    writeFileSync(path.join(dir, 'pyproject.toml'), '[project]\nname = "demo"\nversion = "0.1.0"\n');
    const out = path.join(dir, 'diagnostics.json');
    // The snippet as documented, with `modelvet` replaced by this checkout's CLI; then a reporter that waits
    // (on Neovim's event loop) for the diagnostics of the opened buffer and writes them out.
    const init = `${legacy.replace(command, `{ ${lua(process.execPath)}, ${lua(CLI)}, 'lsp', '--stdio' }`)}
local out, deadline = ${lua(out)}, vim.loop.now() + ${TIMEOUT_MS}
local timer = vim.loop.new_timer()
timer:start(50, 50, vim.schedule_wrap(function()
  local diags = vim.diagnostic.get()
  if #diags == 0 and vim.loop.now() < deadline then return end
  timer:stop()
  local rows = {}
  for _, d in ipairs(diags) do
    local lsp = d.user_data and d.user_data.lsp or {}
    table.insert(rows, { lnum = d.lnum, col = d.col, severity = d.severity, message = d.message,
      code = lsp.code or d.code or vim.NIL, source = d.source or lsp.source or vim.NIL,
      file = vim.api.nvim_buf_get_name(d.bufnr) })
  end
  local f = io.open(out, 'w'); f:write(vim.fn.json_encode({ version = tostring(vim.version().major) .. '.' .. tostring(vim.version().minor), diagnostics = rows })); f:close()
  vim.cmd('qa!')
end))
`;
    writeFileSync(path.join(dir, 'init.lua'), init);
    const child = spawn(NVIM, ['--headless', '-n', '-i', 'NONE', '-u', path.join(dir, 'init.lua'), 'requirements.txt'], {
      cwd: dir, env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: path.join(dir, '.config'), XDG_DATA_HOME: path.join(dir, '.data'), XDG_STATE_HOME: path.join(dir, '.state'), XDG_CACHE_HOME: path.join(dir, '.cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const killer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS + 5_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(killer);
    assert.ok(existsSync(out), `Neovim wrote no report (exit ${code}): ${stderr.slice(0, 500)}`);
    const report = JSON.parse(readFileSync(out, 'utf8')) as { version: string; diagnostics: Array<{ lnum: number; col: number; code: string; message: string; source: string; file: string }> };
    const codes = report.diagnostics.map((d) => d.code).sort();
    assert.ok(codes.includes('DEP001'), `DEP001 (numpyy) pushed to Neovim ${report.version}: ${JSON.stringify(report.diagnostics)}`);
    assert.ok(codes.includes('DEP002'), `DEP002 (unpinned torch): ${JSON.stringify(codes)}`);
    const typo = report.diagnostics.find((d) => d.code === 'DEP001')!;
    assert.equal(typo.lnum, 0);
    assert.equal(typo.col, 0);
    assert.ok(typo.file.endsWith('requirements.txt'));
    assert.ok(report.diagnostics.every((d) => d.source === 'modelvet' || d.source === 'ModelVet'), JSON.stringify(report.diagnostics.map((d) => d.source)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
