/** What the exit summary counts: invocations, errors, cold starts and the durations' percentiles. */
import type { ResultEvent } from "../events";

/**
 * Kept apart from the reporters' display state, and appended to in place: a session serves thousands
 * of invocations, and copying every duration on each result would cost more than the invocation.
 */
export class Stats {
  private readonly durations: number[] = [];
  private errors = 0;
  private cold = 0;

  add(e: ResultEvent): void {
    this.durations.push(e.durationMs);
    if (e.error) this.errors++;
    if (e.coldStart) this.cold++;
  }

  summary(): Summary {
    return summarize(this.durations, this.errors, this.cold);
  }
}

export interface Summary {
  invocations: number;
  errors: number;
  coldStarts: number;
  p50: number;
  p95: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function summarize(durations: readonly number[], errors: number, coldStarts: number): Summary {
  const sorted = [...durations].sort((a, b) => a - b);
  return {
    invocations: sorted.length,
    errors,
    coldStarts,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
  };
}
