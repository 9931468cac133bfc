/** How a replay is shown: the new result next to the recorded one. */
import { isDeepStrictEqual } from "node:util";
import type { InvocationRecord } from "./invocation-record";
import type { ReplayOutcome } from "./replay-run";
import type { LambdaError } from "../../core/lambda-error";

type Outcome = { ok: true; result: unknown } | { ok: false; error: LambdaError };

/** What is compared: the result, or the error's type and message (traces name build paths). */
function essence(outcome: Outcome): unknown {
  return outcome.ok
    ? { result: outcome.result }
    : { errorType: outcome.error.errorType, errorMessage: outcome.error.errorMessage };
}

/** Whether the replay ended as the recorded invocation did. */
export function sameOutcome(recorded: Outcome, replayed: Outcome): boolean {
  return isDeepStrictEqual(essence(recorded), essence(replayed));
}

/** The `--json` document of a replay. */
export function replayJson(
  record: InvocationRecord,
  file: string,
  replayed: ReplayOutcome,
  credentials: "chain" | "none",
  missing: string[],
) {
  return {
    type: "replay",
    function: record.function,
    requestId: record.requestId,
    file,
    credentials,
    missing,
    recorded: { ...record.outcome, durationMs: record.timings.run, coldStart: record.coldStart },
    replayed,
    same: sameOutcome(record.outcome, replayed),
  };
}

function body(outcome: Outcome): string[] {
  if (!outcome.ok) return [`${outcome.error.errorType}:`, ...outcome.error.errorMessage.split("\n")];
  return JSON.stringify(outcome.result ?? null, null, 2).split("\n");
}

/** The recorded and the new outcome side by side when they fit in `width` columns, else one above the other. */
export function sideBySide(
  recorded: Outcome & { durationMs: number },
  replayed: Outcome & { durationMs: number; coldStart: boolean },
  width = 100,
): string[] {
  const ms = (n: number) => `${n < 10 ? n.toFixed(1) : n.toFixed(0)} ms`;
  const left = [`recorded  ${recorded.ok ? "✓" : "✗"} ${ms(recorded.durationMs)}`, ...body(recorded)];
  const right = [
    `now  ${replayed.ok ? "✓" : "✗"} ${ms(replayed.durationMs)}${replayed.coldStart ? " (cold)" : ""}`,
    ...body(replayed),
  ];
  const column = Math.max(...left.map((line) => line.length)) + 4;
  const fits = column + Math.max(...right.map((line) => line.length)) <= width;
  if (!fits) return [...left, "", ...right].map((line) => (line ? `  ${line}` : line));
  const rows = Math.max(left.length, right.length);
  const out: string[] = [];
  for (let i = 0; i < rows; i++) out.push(`  ${(left[i] ?? "").padEnd(column)}${right[i] ?? ""}`.trimEnd());
  return out;
}
