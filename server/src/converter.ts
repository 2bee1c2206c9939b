/**
 * The SafeTensors converter as seen by the server and its scan worker.
 *
 * CONVERT-WIRING: core/convert (another helper) had not landed when the server was
 * written. When it does, replace the `undefined` below with
 *   `import { convertToSafetensors } from '../../core/convert/index';` … `= convertToSafetensors;`
 * Everything else is in place: `modelvet/convert` runs it in a worker, and LOAD001's
 * "switch to SafeTensors" fix gets a "convert first" variant when a workspace file is loaded.
 */
import type { ConvertResult } from '../../core/protocol';
import { convertToSafetensors } from '../../core/convert/index';

export type Converter = (input: string, opts: { output?: string; overwrite?: boolean }) => ConvertResult;

export const converter: Converter | undefined = convertToSafetensors;
