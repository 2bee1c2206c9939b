#!/usr/bin/env node
'use strict';
const path = require('path');
const fs = require('fs');
const dist = path.join(__dirname, '..', 'dist');
const cli = path.join(dist, 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('modelvet: the CLI is not built yet; run `npm install && npm run build` first.\n');
  process.exit(2);
}
// The bundles' V8 code cache, made by `npm run build` (MODELVET_CODE_CACHE=off: compile as usual).
// `--version` and `help` load no bundle but the (uncached) dispatcher: no cache hook for them.
const cacheMode = process.env.MODELVET_CODE_CACHE;
const first = process.argv[2];
const loadsBundles = !['--version', '-V', 'version', 'help', '--help', '-h', undefined].includes(first);
if (cacheMode !== 'off' && (loadsBundles || cacheMode === 'write')) require('./code-cache').install(dist, cacheMode === 'write');
require(cli).run();
