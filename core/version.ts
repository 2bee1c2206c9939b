/** The tool's version (SARIF `tool.driver.version`, `modelvet --version`); a module of its own so printing it loads nothing else. */
export const TOOL_VERSION = '0.1.0';
