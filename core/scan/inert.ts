/**
 * Data that no loader executes: plain text (configs, vocabularies, code listings) and a few media formats that
 * datasets and model archives carry. Used for NESTED streams only: an archive member, a stream decompressed by the
 * scanner or bytes handed to a nested loader that no handler recognizes is unscannable — never silently skipped —
 * unless it is one of these. (A pickle is always tried first: a protocol-0 pickle is ASCII text too.)
 */

/** Bytes of the head that must decode as text for the stream to count as text. */
export const INERT_TEXT_SNIFF_BYTES = 4096;

const MEDIA_MAGIC: { what: string; magic: number[]; at?: number }[] = [
  { what: 'PNG image', magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { what: 'JPEG image', magic: [0xff, 0xd8, 0xff] },
  { what: 'GIF image', magic: [0x47, 0x49, 0x46, 0x38] },
  { what: 'RIFF media (WAV/WebP/AVI)', magic: [0x52, 0x49, 0x46, 0x46] },
  { what: 'FLAC audio', magic: [0x66, 0x4c, 0x61, 0x43] },
  { what: 'Ogg media', magic: [0x4f, 0x67, 0x67, 0x53] },
  { what: 'MP3 audio (ID3)', magic: [0x49, 0x44, 0x33] },
  { what: 'TIFF image', magic: [0x49, 0x49, 0x2a, 0x00] },
  { what: 'TIFF image', magic: [0x4d, 0x4d, 0x00, 0x2a] },
  { what: 'PDF document', magic: [0x25, 0x50, 0x44, 0x46, 0x2d] },
];

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

/** True when `head` is UTF-8 text without NUL or other C0 controls (tab, newlines, form feed, ESC allowed). */
export function looksLikeText(head: Uint8Array, complete: boolean): boolean {
  if (head.length === 0) return false;
  for (let i = 0; i < head.length; i++) {
    const c = head[i];
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c && c !== 0x1b) return false;
    if (c === 0x7f) return false;
  }
  // A cut in the middle of a multi-byte sequence at the end of an incomplete head is not an error.
  let end = head.length;
  if (!complete) { let k = 0; while (k < 3 && end > 0 && (head[end - 1] & 0xc0) === 0x80) { end--; k++; } if (end > 0 && head[end - 1] >= 0xc0) end--; }
  try { utf8Fatal.decode(head.subarray(0, end)); return true; } catch { return false; }
}

/** What kind of inert data `head` starts (`size` is the whole stream's size), or undefined. */
export function inertKind(head: Uint8Array, size: number): string | undefined {
  if (size === 0) return 'empty';
  for (const m of MEDIA_MAGIC) if (head.length >= m.magic.length && m.magic.every((b, i) => head[i] === b)) return m.what;
  if (looksLikeText(head.subarray(0, INERT_TEXT_SNIFF_BYTES), size <= INERT_TEXT_SNIFF_BYTES)) return 'text';
  return undefined;
}
