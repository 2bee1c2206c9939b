// Minimal typing for jsfive (ships no declarations): only what the HDF5 handler uses.
declare module 'jsfive' {
  export class File {
    constructor(buffer: ArrayBuffer, filename?: string);
    readonly attrs: Record<string, unknown>;
  }
}
