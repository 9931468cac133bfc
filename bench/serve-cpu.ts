/**
 * CPU time of a process and its descendants, read from /proc (Linux): what an invocation costs in
 * CPU, a figure the machine's other load changes far less than a rate does.
 */
import { readFileSync, readdirSync } from "node:fs";

/** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

function read(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return ""; // the process is gone
  }
}

function tasks(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

/** User and system time of one process, all its threads (ms). */
function cpuOf(pid: number): number {
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const fields = read(`/proc/${pid}/stat`).split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) || 0) + (Number(fields[12]) || 0)) * (1000 / TICKS_PER_SECOND);
}

/** CPU ms used so far by `pid` and every process below it; NaN where /proc is not there. */
export function treeCpuMs(pid: number): number {
  if (!read("/proc/self/stat")) return NaN;
  let total = 0;
  const stack = [pid];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    total += cpuOf(next);
    for (const tid of tasks(next))
      for (const child of read(`/proc/${next}/task/${tid}/children`).split(/\s+/))
        if (child) stack.push(Number(child));
  }
  return total;
}

/** CPU ms used so far by the main thread of `pid` (its first thread); NaN where /proc is not there. */
export function mainThreadCpuMs(pid: number): number {
  const fields = read(`/proc/${pid}/task/${pid}/stat`).split(") ")[1]?.split(" ") ?? [];
  if (fields.length < 13) return NaN;
  return ((Number(fields[11]) || 0) + (Number(fields[12]) || 0)) * (1000 / TICKS_PER_SECOND);
}
