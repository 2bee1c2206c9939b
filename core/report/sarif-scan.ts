/**
 * SARIF 2.1.0 for `modelvet scan`: one run, tool.driver.rules from the registry
 * (only the codes that occur), one result per finding with the file as
 * artifactLocation (URI relative to the scan root) and the archive member /
 * byte offset / opcode index in the message and properties. Valid for GitHub
 * code scanning (every result has a location; levels error/warning/note).
 */
import type { ScanOutput, ScanSeverity } from '../scan/types';
import { sarifLog, sarifRules, toSarifUri } from './sarif';

const LEVEL: Record<ScanSeverity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };
const SECURITY_SEVERITY: Record<ScanSeverity, string> = { critical: '9.5', high: '8.0', medium: '5.0', low: '2.0', info: '0.0' };

export function scanToSarif(out: ScanOutput, root: string): object {
  const { rules, index } = sarifRules(new Set(out.files.flatMap((f) => f.findings.map((x) => x.code))), () => 'model-scan');
  const results = out.files.flatMap((f) => f.findings.map((x) => {
    const where = [x.location.member && `member ${x.location.member}`, x.location.offset !== undefined && `offset ${x.location.offset}`,
      x.location.opcodeIndex !== undefined && `opcode #${x.location.opcodeIndex}`].filter(Boolean).join(', ');
    return {
      ruleId: x.code,
      ...(index.has(x.code) ? { ruleIndex: index.get(x.code) } : {}),
      level: LEVEL[x.severity],
      message: { text: `${x.message}${where ? ` (${where})` : ''}${x.evidence ? ` — ${x.evidence}` : ''} [verdict: ${f.verdict}]` },
      locations: [{ physicalLocation: { artifactLocation: { uri: toSarifUri(f.path, root), uriBaseId: '%SRCROOT%' }, region: { startLine: 1 } } }],
      partialFingerprints: { modelvetScan: `${f.sha256 || f.path}:${x.code}:${x.location.member ?? ''}:${x.location.offset ?? ''}` },
      properties: { severity: x.severity, verdict: f.verdict, format: f.format, sha256: f.sha256, ...(x.location.member ? { member: x.location.member } : {}),
        ...(x.location.offset !== undefined ? { offset: x.location.offset } : {}), ...(x.location.opcodeIndex !== undefined ? { opcodeIndex: x.location.opcodeIndex } : {}),
        'security-severity': SECURITY_SEVERITY[x.severity] },
    };
  }));
  return sarifLog(rules, { originalUriBaseIds: { '%SRCROOT%': { uri: 'file:///' } }, results });
}
