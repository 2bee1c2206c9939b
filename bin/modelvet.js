#!/usr/bin/env node
'use strict';
const path = require('path');
const fs = require('fs');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('modelvet: the CLI is not built yet; run `npm install && npm run build` first.\n');
  process.exit(2);
}
require(cli).run();
