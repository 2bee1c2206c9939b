/** How popular a project is: its download rank and 30-day downloads (public top-packages dataset; offline data). */
import popular from '../data/popular-packages.json';
import downloads from '../data/package-downloads.json';

let rankOf: Map<string, number> | undefined;

export interface Popularity { rank: number; downloads30d?: number; date: string }

/** Rank (1 = most downloaded) and 30-day downloads of a PEP 503-normalized name, when it is in the dataset. */
export function popularity(norm: string): Popularity | undefined {
  if (!rankOf) {
    rankOf = new Map();
    (popular as { names: string[] }).names.forEach((n, i) => { if (!rankOf!.has(n)) rankOf!.set(n, i); });
  }
  const i = rankOf.get(norm);
  if (i === undefined) return undefined;
  const k = (downloads as { thousands: number[] }).thousands[i];
  return { rank: i + 1, ...(k !== undefined ? { downloads30d: k * 1000 } : {}), date: (downloads as { date: string }).date };
}

/** 1234567890 → "1.2 billion", 45000000 → "45 million", 12000 → "12,000". */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${+(n / 1e9).toPrecision(2)} billion`;
  if (n >= 1e6) return `${+(n / 1e6).toPrecision(2)} million`;
  return n.toLocaleString('en-US');
}
