/** Finding codes of the model scanner, aggregated from each scanner family. */
import type { RuleMeta } from '../rules/registry';
import { pickleScanCodes } from './codes-pickle';
import { formatScanCodes } from './codes-formats';

export const scanCodes: RuleMeta[] = [...pickleScanCodes, ...formatScanCodes];
