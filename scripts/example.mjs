// `npm run example`: the main job on the bundled example project — check its manifests and code,
// then scan its model files and audit its dataset. Both commands are expected to find problems (exit 1): that is the demo.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const cli = path.join(root, 'bin', 'modelvet.js');
const project = path.join('examples', 'ml-project');
let failed = false;
for (const args of [['check', project], ['scan', path.join(project, 'models')], ['audit-data', path.join(project, 'data')]]) {
  console.log(`\n$ modelvet ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', cwd: root });
  // 1 = findings (expected here); 0 would mean the example lost its problems; 2 = usage/internal error.
  if (r.status !== 1) { console.error(`unexpected exit code ${r.status} from modelvet ${args[0]}`); failed = true; }
}
process.exit(failed ? 1 : 0);
