/** Small statistics for benchmarks, and the shape of one row of the results. */
import { loadavg } from "node:os";

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}

export function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** The machine's 1-minute load average, as the rows record it: figures on a loaded machine are noisy. */
export function load(): number {
  return Number(loadavg()[0].toFixed(2));
}

export interface Row {
  figure: string;
  value: string;
  baseline?: string;
  ratio?: string;
  goal?: string;
  /** Whether the figure meets its goal, where it has one that can be checked. */
  met?: boolean;
  /** The figures behind `value` and `baseline`, for --json (ms, bytes, per second). */
  data?: Record<string, number>;
  /** The 1-minute load average when the row was measured. */
  load?: number;
}
