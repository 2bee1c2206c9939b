import type { RuleMeta } from '../rules/registry';
/** ST…, GGUF…, ONNX…, KERAS…, H5…, TF…, HF…, W… codes (other formats and weight checks). */
export const formatScanCodes: RuleMeta[] = [];
