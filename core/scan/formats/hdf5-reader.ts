/**
 * jsfive's HDF5 reader, as keras.ts uses it. keras.ts requires this module on the first HDF5 file, not at load;
 * the CLI build makes it a chunk of the scan command (dist/cli-scan-jsfive.js).
 */
export { File } from 'jsfive';
