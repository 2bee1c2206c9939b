/**
 * SARIF output of `modelvet scan`, with the rule registry it needs (every rule family's documentation).
 * core/cli/scan.ts requires it for `--format sarif` only; the build makes it a chunk of its own
 * (dist/cli-scan-sarif.js), so a text or JSON scan neither loads nor compiles it.
 */
import '../rules/all';
export { scanToSarif } from '../report/sarif-scan';
