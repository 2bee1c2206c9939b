// Minimal typings for the SPDX helpers (they ship no declarations): only what core/licenses uses.
declare module 'spdx-expression-parse' {
  export type SpdxNode =
    | { license: string; plus?: boolean; exception?: string }
    | { left: SpdxNode; conjunction: 'and' | 'or'; right: SpdxNode };
  function parse(expression: string): SpdxNode;
  export default parse;
}
declare module 'spdx-correct' {
  function correct(identifier: string, options?: { upgrade?: boolean }): string | null;
  export default correct;
}
declare module 'spdx-satisfies' {
  function satisfies(expression: string, approved: string[]): boolean;
  export default satisfies;
}
