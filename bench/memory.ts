/** Resident memory of a process and its descendants, read from /proc (Linux). */
import { readFileSync, readdirSync } from "node:fs";

function read(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return ""; // the process or thread is gone
  }
}

function children(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    for (const child of read(`/proc/${pid}/task/${tid}/children`).split(/\s+/)) {
      if (child) out.push(Number(child));
    }
  }
  return out;
}

function rssOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(read(`/proc/${pid}/status`))?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

/** Bytes resident in `pid` and every process below it; NaN where /proc is not there. */
export function treeRss(pid: number): number {
  if (!read("/proc/self/status")) return NaN;
  let total = 0;
  const seen = new Set<number>();
  const stack = [pid];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    total += rssOf(next);
    stack.push(...children(next));
  }
  return total;
}
