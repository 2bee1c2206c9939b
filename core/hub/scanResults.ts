/**
 * Remote-scan verdicts, remembered per (endpoint, kind, repo, commit) so that
 * the hover can show ModelVet's own verdict next to the Hub's hint.
 */
import path from 'node:path';
import { JsonTtlCache } from './cache';
import type { Verdict } from '../scan/types';

/** Scan verdicts stay valid for a commit forever (content is immutable); this only bounds stale rule versions. */
export const SCAN_RESULT_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export interface ScanVerdictSummary {
  verdict: Verdict;
  files: number;
  malicious: number;
  suspicious: number;
  unscannable: number;
  /** Files with a non-safe verdict, worst first (capped). */
  worst: Array<{ path: string; verdict: Verdict; codes: string[] }>;
  scannedAt: string;
}

export function scanResultsCache(cacheDir: string): JsonTtlCache<ScanVerdictSummary> {
  return new JsonTtlCache(path.join(cacheDir, 'hub-scans'));
}

export function scanResultKey(baseUrl: string, kind: string, repoId: string, sha: string): string {
  return JSON.stringify([baseUrl, kind, repoId, sha]);
}
