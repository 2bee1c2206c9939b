/**
 * Clean-label trigger test (DATA015). A clean-label backdoor adds a trigger only to rows that already
 * carry the target label, so within one file it is indistinguishable from a natural, strongly
 * label-bound word: both are pure, and the rest of their rows agrees with the label (the context test
 * of DATA004 passes). What a natural word has and an injected trigger lacks is the same rate in other
 * data of the same task. So a pure, context-agreeing token is tested against the *rest of the audit*:
 * the other splits and the `--reference` files. With c_f carrying rows among the R_f rows with the
 * token's label L in the split where it is most frequent and c_o among the R_o rows with label L of
 * the others (label-conditional: a label shift between splits is no evidence), under "same rate" the split of
 * the T = c_f + c_o carrying rows is Binomial(T, R_f / (R_f + R_o)) (the exact conditional test for two
 * Poisson rates), p_rare = P(X ≥ c_f). Required: p_rare under the Benjamini–Hochberg threshold over
 * the tested tokens (FDR 1%) and a rate ratio of at least 5 (c_o smoothed by +0.5). Without another
 * split or a reference there is nothing to compare with and no finding (docs/datasets.md).
 */
import { bhThreshold, binomialTail } from './stats';

export const CLEAN_LABEL = Object.freeze({
  /** Share of the token's labelled rows with its majority label (clean-label triggers are pure). */
  minPurity: 0.95,
  /** The purity p-value must be below this (as for DATA004). */
  maxPurityP: 0.01,
  /** Context disagreement must stay below this: above it the token is DATA004's business. */
  maxContextDisagreement: 0.5,
  /** Rate in the token's split over the rate in the rest of the audit (smoothed). */
  minRateRatio: 5,
  /** Benjamini–Hochberg false-discovery rate over the tested tokens. */
  fdr: 0.01,
});

export interface CleanLabelToken {
  /** Index of the token in the caller's candidate list. */
  index: number;
  purity: number;
  pPurity: number;
  contextDisagreement: number;
  /** Rows carrying the token per group (split or reference), and the rows they are counted among per group. */
  carrying: number[];
  rows: number[];
}

export interface CleanLabelResult {
  index: number;
  /** The group where the token is most frequent (never a reference group). */
  group: number;
  share: number;
  comparisonShare: number;
  comparisonRows: number;
  pRare: number;
  flagged: boolean;
}

/**
 * Tests each token (already counted, purity-selected by the caller) for excess in one group.
 * `reference[g]` marks trusted groups (never the poisoned side).
 */
export function cleanLabelTest(tokens: CleanLabelToken[], reference: boolean[]): CleanLabelResult[] {
  const out: CleanLabelResult[] = [];
  for (const t of tokens) {
    const groupRows = t.rows;
    const total = groupRows.reduce((a, b) => a + b, 0);
    if (t.purity < CLEAN_LABEL.minPurity || t.pPurity > CLEAN_LABEL.maxPurityP || t.contextDisagreement >= CLEAN_LABEL.maxContextDisagreement) continue;
    let g = -1;
    for (let i = 0; i < groupRows.length; i++) {
      if (reference[i] || !groupRows[i]) continue;
      if (g < 0 || t.carrying[i] / groupRows[i] > t.carrying[g] / groupRows[g]) g = i;
    }
    if (g < 0) continue;
    const rf = groupRows[g], ro = total - rf;
    if (!ro) continue; // nothing to compare with
    const cf = t.carrying[g];
    const co = t.carrying.reduce((a, b) => a + b, 0) - cf;
    const pRare = binomialTail(cf, cf + co, rf / (rf + ro));
    out.push({ index: t.index, group: g, share: cf / rf, comparisonShare: co / ro, comparisonRows: ro, pRare, flagged: false });
  }
  const thr = bhThreshold(out.map((r) => r.pRare), CLEAN_LABEL.fdr, Math.max(out.length, 1));
  for (const r of out) r.flagged = thr > 0 && r.pRare <= thr && r.share >= CLEAN_LABEL.minRateRatio * ((r.comparisonShare * r.comparisonRows + 0.5) / r.comparisonRows);
  return out;
}
