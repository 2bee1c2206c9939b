/** Size and content limits shared by every manifest parser. */

/** Manifests larger than this (UTF-16 units) are reported, not parsed. */
export const MAX_MANIFEST_CHARS = 8 * 1024 * 1024;
/** Longer logical lines are reported and skipped (pip-compile lines with many hashes stay far below). */
export const MAX_LINE_LENGTH = 100_000;
/** How much of the start of a file is checked for NUL bytes (binary content). */
const BINARY_PROBE_CHARS = 8192;

/** A reason the text cannot be analyzed (too large, binary), or undefined. */
export function checkSizeAndBinary(text: string): string | undefined {
  if (text.length > MAX_MANIFEST_CHARS) return `file is larger than ${MAX_MANIFEST_CHARS} characters`;
  if (text.slice(0, BINARY_PROBE_CHARS).includes('\u0000')) return 'file looks binary (contains NUL bytes)';
  return undefined;
}
