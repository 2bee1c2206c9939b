/**
 * SARIF 2.1.0 for `modelvet check` findings, in the shape GitHub code scanning
 * accepts: one run, tool.driver.rules from the registry (with help text), results
 * with 1-based regions and artifact URIs relative to the checked root.
 */
import path from 'node:path';
import { allRules, renderRuleDoc, ruleDocUrl, type RuleMeta } from '../rules/registry';
import type { Finding, Severity } from '../types';
import { TOOL_VERSION } from '../version';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', information: 'note', hint: 'note' };
export { TOOL_VERSION };

export function toSarifUri(p: string, root: string): string {
  const rel = path.relative(root, p) || path.basename(p);
  return rel.split(path.sep).map(encodeURIComponent).join('/');
}

export function findingsToSarif(findings: Finding[], root: string): object {
  const { rules, index } = sarifRules(new Set(findings.map((f) => f.code)), (r) => r.category);
  return sarifLog(rules, {
    results: findings.map((f) => {
      const result: Record<string, unknown> = {
        ruleId: f.code,
        level: LEVEL[f.severity],
        message: { text: f.cell !== undefined ? `${f.message} (cell ${f.cell + 1})` : f.message },
        locations: [{
          physicalLocation: {
            artifactLocation: { uri: toSarifUri(f.path, root), uriBaseId: '%SRCROOT%' },
            region: {
              startLine: f.range.start.line + 1,
              startColumn: f.range.start.character + 1,
              endLine: f.range.end.line + 1,
              endColumn: f.range.end.character + 1,
            },
          },
        }],
        partialFingerprints: { primaryLocationLineHash: `${f.code}:${toSarifUri(f.path, root)}:${f.cell ?? ''}:${f.range.start.line}` },
      };
      if (index.has(f.code)) result.ruleIndex = index.get(f.code);
      // The other places of one cause (e.g. DEP003's unhashed requirements).
      if (f.related?.length && f.cell === undefined) {
        result.relatedLocations = f.related.map((r, id) => ({
          id,
          message: { text: r.message },
          physicalLocation: {
            artifactLocation: { uri: toSarifUri(r.path ?? f.path, root), uriBaseId: '%SRCROOT%' },
            region: { startLine: r.range.start.line + 1, startColumn: r.range.start.character + 1, endLine: r.range.end.line + 1, endColumn: r.range.end.character + 1 },
          },
        }));
      }
      if (f.fixes.length && f.cell === undefined) {
        result.fixes = f.fixes.filter((x) => x.edits.length).map((x) => ({
          description: { text: x.title },
          artifactChanges: [{
            artifactLocation: { uri: toSarifUri(f.path, root), uriBaseId: '%SRCROOT%' },
            replacements: x.edits.map((e) => ({
              deletedRegion: { startLine: e.range.start.line + 1, startColumn: e.range.start.character + 1, endLine: e.range.end.line + 1, endColumn: e.range.end.character + 1 },
              insertedContent: { text: e.newText },
            })),
          }],
        }));
      }
      return result;
    }),
    columnKind: 'utf16CodeUnits',
  });
}

/**
 * The registry's rules for the codes that occur, as SARIF reportingDescriptors, with each
 * code's index in the list. `tag` names the third tag (the rule's family).
 */
export function sarifRules(used: ReadonlySet<string>, tag: (r: RuleMeta) => string): { rules: object[]; index: Map<string, number> } {
  const metas = allRules().filter((r) => used.has(r.code));
  return {
    index: new Map(metas.map((r, i) => [r.code, i])),
    rules: metas.map((r) => ({
      id: r.code,
      name: r.name,
      shortDescription: { text: r.summary },
      fullDescription: { text: r.summary },
      helpUri: ruleDocUrl(r.code),
      help: { text: r.summary, markdown: renderRuleDoc(r) },
      defaultConfiguration: { level: LEVEL[r.defaultSeverity] },
      properties: { tags: ['security', 'supply-chain', tag(r)] },
    })),
  };
}

/** A SARIF 2.1.0 log with one ModelVet run: the driver's rules plus the run's own fields (results, …). */
export function sarifLog(rules: object[], run: Record<string, unknown>): object {
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'ModelVet', version: TOOL_VERSION, informationUri: ruleDocUrl('index').replace(/\/index\.md$/, ''), rules } },
      ...run,
    }],
  };
}

