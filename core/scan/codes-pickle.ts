import type { RuleMeta } from '../rules/registry';
/** PKL…, ZIP…, NPY…, JOB…, TAR…, SCAN… codes (pickle-family scanner). */
export const pickleScanCodes: RuleMeta[] = [];
