/** Small statistics for dataset audits: binomial tails, Benjamini–Hochberg, PSI and KS. */

const LOG_FACT_CACHE: number[] = [0];
function logFactorial(n: number): number {
  if (n < 4096) {
    for (let i = LOG_FACT_CACHE.length; i <= n; i++) LOG_FACT_CACHE[i] = LOG_FACT_CACHE[i - 1] + Math.log(i);
    return LOG_FACT_CACHE[n];
  }
  // Stirling series: exact to double precision for n this large.
  return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + 1 / (12 * n) - 1 / (360 * n ** 3);
}

function logBinomPmf(k: number, n: number, p: number): number {
  if (p <= 0) return k === 0 ? 0 : -Infinity;
  if (p >= 1) return k === n ? 0 : -Infinity;
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/**
 * P(X >= k) for X ~ Binomial(n, p). Exact (log-space sum) for up to 20,000 terms; beyond that the
 * Chernoff bound exp(-n·KL(k/n‖p)), which is an upper bound (conservative: never more significant).
 */
export function binomialTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (k <= n * p) return 1; // at or below the mean: not an excess, report no evidence
  if (n - k > 20_000) {
    const q = k / n;
    const kl = q * Math.log(q / p) + (1 - q) * Math.log((1 - q) / (1 - p));
    return Math.min(1, Math.exp(-n * kl));
  }
  const first = logBinomPmf(k, n, p);
  let sum = 0;
  for (let i = k; i <= n; i++) {
    const t = logBinomPmf(i, n, p) - first;
    sum += Math.exp(t);
    if (t < -40 && i > k + 10) break; // the remaining terms are below double precision
  }
  return Math.min(1, Math.exp(first) * sum);
}

/** Benjamini–Hochberg: the largest p-value threshold at false-discovery rate q over m tests (0 if none pass). */
export function bhThreshold(pvalues: readonly number[], q: number, m = pvalues.length): number {
  const sorted = [...pvalues].sort((a, b) => a - b);
  let thr = 0;
  for (let i = 0; i < sorted.length; i++) if (sorted[i] <= ((i + 1) / m) * q) thr = sorted[i];
  return thr;
}

/** Population stability index between two count vectors over the same bins (epsilon-smoothed). */
export function psi(expected: ArrayLike<number>, actual: ArrayLike<number>): number {
  let te = 0, ta = 0;
  const n = Math.max(expected.length, actual.length);
  for (let i = 0; i < n; i++) { te += expected[i] ?? 0; ta += actual[i] ?? 0; }
  if (!te || !ta) return 0;
  const eps = 1e-4;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.max((expected[i] ?? 0) / te, eps);
    const a = Math.max((actual[i] ?? 0) / ta, eps);
    s += (a - e) * Math.log(a / e);
  }
  return s;
}

/** Kolmogorov–Smirnov distance between two histograms over the same ordered bins. */
export function ksDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ta = 0, tb = 0;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) { ta += a[i] ?? 0; tb += b[i] ?? 0; }
  if (!ta || !tb) return 0;
  let ca = 0, cb = 0, d = 0;
  for (let i = 0; i < n; i++) {
    ca += (a[i] ?? 0) / ta; cb += (b[i] ?? 0) / tb;
    d = Math.max(d, Math.abs(ca - cb));
  }
  return d;
}

/** Histogram bins for a length (half-octaves, 32 bins) and for a number (signed log10 scale, 48 bins). */
export const LENGTH_BINS = 32;
/** Half-octave bins: 1 + 2·floor(log2 len) + the next bit (integer ops only). */
export function lengthBin(len: number): number {
  if (len <= 0) return 0;
  const e = 31 - Math.clz32(len);
  const half = e > 0 ? (len >>> (e - 1)) & 1 : 0;
  return Math.min(LENGTH_BINS - 1, 1 + 2 * e + half);
}
export const NUMBER_BINS = 48;
export function numberBin(x: number): number {
  if (!Number.isFinite(x)) return x > 0 ? NUMBER_BINS - 1 : 0;
  const v = Math.sign(x) * Math.log10(1 + Math.abs(x)); // roughly -12 … 12 for realistic values
  return Math.max(0, Math.min(NUMBER_BINS - 1, Math.floor((v + 12) * 2)));
}
