/**
 * One seed for every randomised test (fast-check properties, fuzz and mutation loops): MODELVET_SEED
 * (an integer) reproduces a run; without it each test process draws a random seed. Every failure
 * message of a seeded test names it, e.g. `reproduce: MODELVET_SEED=123 node --import tsx --test FILE`.
 *
 * - fast-check: pass `fcParams({ numRuns })` to fc.assert (seed + a reporter that adds the seed line).
 * - hand-written loops: `rng(label)` is a seeded PRNG (one stream per label, so tests do not disturb
 *   each other's draws); wrap the loop in `reproducible(() => …)` and/or word messages with `seeded()`.
 */
import fc from 'fast-check';

function parseSeed(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw new Error(`MODELVET_SEED must be an integer, got ${JSON.stringify(value)}`);
  return Number(value.trim()) | 0;
}

export const SEED: number = parseSeed(process.env.MODELVET_SEED) ?? ((Math.random() * 0x1_0000_0000) | 0);

/** The line a failure message ends with. */
export const SEED_NOTE = `reproduce: MODELVET_SEED=${SEED}`;

/** `message` plus the seed (for assertion messages in seeded tests). */
export function seeded(message: string): string { return `${message} (${SEED_NOTE})`; }

/** Run `body`; any error it throws gets the seed appended to its message. */
export function reproducible<T>(body: () => T): T {
  try {
    return body();
  } catch (e) {
    if (e instanceof Error && !e.message.includes(SEED_NOTE)) e.message = seeded(e.message);
    throw e;
  }
}

/** fast-check parameters: the run's seed and a reporter whose failure message names MODELVET_SEED. */
export function fcParams<T>(params: Omit<fc.Parameters<T>, 'seed' | 'reporter' | 'asyncReporter'> = {}): fc.Parameters<T> {
  return {
    ...params,
    seed: SEED,
    reporter(details) {
      if (!details.failed) return;
      const message = `${fc.defaultReportMessage(details) ?? 'Property failed'}\n${SEED_NOTE}`;
      throw Object.assign(new Error(message, { cause: details.errorInstance }), { seed: SEED });
    },
  };
}

/** FNV-1a of the label, mixed with the seed: a distinct, reproducible stream per label. */
function streamSeed(label: string): number {
  let h = 0x811c9dc5 ^ SEED;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A seeded PRNG (mulberry32) returning floats in [0, 1); same label + same MODELVET_SEED = same draws. */
export function rng(label: string): () => number {
  let a = streamSeed(label);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
