'use strict';
/**
 * V8 code cache for the CLI bundles (Node 20 has no module.enableCompileCache): `npm run build`
 * runs a few commands once with MODELVET_CODE_CACHE=write, which saves the bytecode V8 compiled
 * for each dist/*.js bundle to dist/<bundle>.v8cache; later runs hand it to V8 instead of parsing
 * and compiling again (`modelvet check` of one file: ~30 % less CPU).
 *
 * Written only by the build, next to the bundles (never at run time, never in a shared directory),
 * and used only when it is for exactly this bundle: the cache names the SHA-256 of the source it
 * was made from (V8's own check looks at the source length only) and of its own data (V8 aborts
 * the process on a corrupt cache instead of refusing it); V8 rejects a cache from another V8
 * version or other flags. A refused cache only means the bundle is compiled as usual.
 */
const Module = require('module');
const vm = require('vm');
const fs = require('fs');
const path = require('path');

const MAGIC = 'modelvet-v8cache-2 ';
/** MAGIC, SHA-256 of the bundle source, SHA-256 of the cache data (V8 aborts the process on corrupt data), newline. */
const HEADER_BYTES = MAGIC.length + 64 + 1 + 64 + 1;
const sha256 = (data) => require('crypto').createHash('sha256').update(data).digest('hex');
/** Smaller bundles (the 4 KB dispatcher) compile faster than a cache is checked: no cache for them. */
const MIN_CACHED_BYTES = 16 * 1024;
/** `import(` as code, not in a JSDoc type (`{import('./x').T}`, `typeof import('./x')`). */
const DYNAMIC_IMPORT = /(?<!typeof\s+|[{\w$.])import\(/g;
/** …and not a method named import (`import(node) {`, as in an XML builder bundled into the server). */
const IMPORT_METHOD = /^import\([\w$,\s]*\)\s*\{/;
function hasDynamicImport(source) {
  DYNAMIC_IMPORT.lastIndex = 0;
  for (let m; (m = DYNAMIC_IMPORT.exec(source)) !== null;) {
    if (!IMPORT_METHOD.test(source.slice(m.index, m.index + 200))) return true;
  }
  return false;
}

/**
 * Load every .js file directly in `dir` through the cache; `write`: record and save caches at exit
 * (for files of at least `minBytes`). Returns what happened to each bundle loaded (for tests):
 * cache used, rejected (by the key or by V8), or none.
 */
function install(dir, write, minBytes = MIN_CACHED_BYTES) {
  const plain = Module._extensions['.js'];
  const written = [];
  const status = { used: [], rejected: [], none: [] };
  Module._extensions['.js'] = function loadBundle(module, filename) {
    if (path.dirname(filename) !== dir) return plain(module, filename);
    const cacheFile = filename.slice(0, -3) + '.v8cache';
    if (!write && !fs.existsSync(cacheFile)) { status.none.push(path.basename(filename)); return plain(module, filename); }
    const source = fs.readFileSync(filename, 'utf8');
    if (write && source.length < minBytes) return module._compile(source, filename);
    // vm.Script has no ESM loader here: a bundle with a dynamic import() (the build turns them into
    // requires) loads as usual rather than fail at that import. The writer makes no cache for such a
    // bundle, so a cache whose key matches is for a source without one: the (6 ms on the scan bundle)
    // search runs only when writing.
    if (write && hasDynamicImport(source)) { status.none.push(path.basename(filename)); return module._compile(source, filename); }
    const key = sha256(source);
    let cachedData;
    let keyMatched = false;
    if (!write) {
      try {
        const b = fs.readFileSync(cacheFile);
        const header = b.toString('latin1', 0, HEADER_BYTES);
        keyMatched = b.length > HEADER_BYTES && header.startsWith(`${MAGIC}${key} `) && header.endsWith('\n')
          && header.slice(MAGIC.length + 65, -1) === sha256(b.subarray(HEADER_BYTES));
        if (keyMatched) cachedData = b.subarray(HEADER_BYTES);
      } catch { /* no cache: compile as usual */ }
      // Not this bundle's cache (or unreadable): compile as usual.
      if (!keyMatched) { status.rejected.push(path.basename(filename)); return module._compile(source, filename); }
    }
    const script = new vm.Script(Module.wrap(source), { filename, cachedData });
    if (!write) (keyMatched && !script.cachedDataRejected ? status.used : status.rejected).push(path.basename(filename));
    if (write) written.push({ script, cacheFile, key });
    const fn = script.runInThisContext({ displayErrors: true });
    const req = (id) => module.require(id);
    req.resolve = (request, options) => Module._resolveFilename(request, module, false, options);
    req.main = require.main;
    req.cache = Module._cache;
    return fn.call(module.exports, module.exports, req, module, filename, path.dirname(filename));
  };
  if (write) {
    process.on('exit', () => {
      for (const { script, cacheFile, key } of written) {
        const data = script.createCachedData();
        fs.writeFileSync(cacheFile, Buffer.concat([Buffer.from(`${MAGIC}${key} ${sha256(data)}\n`, 'latin1'), data]));
      }
    });
  }
  return status;
}

module.exports = { install };
