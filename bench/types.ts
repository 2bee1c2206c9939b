/** A benchmark result row; bench/run.ts prints them as one table. */
export interface BenchRow {
  /** What was measured, e.g. "DEP001 check per name". */
  name: string;
  value: number;
  unit: string;
  /** The target, in the same unit, and whether lower is better. */
  target?: number;
  lowerIsBetter?: boolean;
  /** Free text: ratio vs a baseline, sizes, … */
  note?: string;
}
export type Bench = () => Promise<BenchRow[]>;
