/**
 * The parts of @huggingface/jinja the chat-template review uses. chat-template.ts requires this module on the
 * first template, not at load; the CLI build makes it a chunk of the scan command (dist/cli-scan-jinja.js).
 * Re-exported from a module of ours (not required from the package) so that the bundler still keeps only these.
 */
export { tokenize, parse } from '@huggingface/jinja';
