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
// A reader that stops early (`modelvet rules | head`) closes the pipe. End quietly, with the shell's SIGPIPE
// status (128 + 13) rather than 0: a pipeline under `set -o pipefail` must not read a cut-off check as clean.
const EXIT_BROKEN_PIPE = 141;
const onStreamError = (error) => {
  if (error && error.code === 'EPIPE') process.exit(EXIT_BROKEN_PIPE);
  throw error;
};
// The handler goes on each stream when something first uses it, not here: setting up process.stdout and
// process.stderr costs ~1.5 ms each (a pipe: a net.Socket, 1.5-6 ms), and the CLI writes its output with
// writeSync (core/cli/main.ts), so `--version`, a JSON scan or a scan that reports nothing on stderr need
// neither. Which ones were set up is kept for `modelvet scan`'s early exit (core/cli/scan.ts).
const streamsSetUp = new Set();
globalThis[Symbol.for('modelvet.streamsSetUp')] = streamsSetUp;
for (const name of ['stdout', 'stderr']) {
  const d = Object.getOwnPropertyDescriptor(process, name);
  if (!d || typeof d.get !== 'function' || !d.configurable) { process[name].on('error', onStreamError); streamsSetUp.add(name); continue; }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: d.enumerable,
    get() {
      Object.defineProperty(process, name, d); // Node's own getter from now on (it keeps the stream)
      const stream = d.get.call(process);
      stream.on('error', onStreamError);
      streamsSetUp.add(name);
      return stream;
    },
  });
}
// The bundles' V8 code cache, made by `npm run build` (MODELVET_CODE_CACHE=off: compile as usual).
// `--version` and `help` load no bundle but the (uncached) dispatcher: no cache hook for them.
const cacheMode = process.env.MODELVET_CODE_CACHE;
const first = process.argv[2];
const loadsBundles = !['--version', '-V', 'version', 'help', '--help', '-h', undefined].includes(first);
if (cacheMode !== 'off' && (loadsBundles || cacheMode === 'write')) require('./code-cache').install(dist, cacheMode === 'write');
// `modelvet scan` ends the process as soon as its report is out (core/cli/scan.ts): the normal exit would first
// tear down a big scan's heap (5-10 ms nobody needs). Only this entry asks for it; library callers and tests do not.
globalThis[Symbol.for('modelvet.exitWhenDone')] = true;
require(cli).run();
