/** Resident memory of a process and its descendants, read from /proc (Linux), whole and process by process. */
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

/**
 * One process's resident memory. Threads share their process's memory, so Linux keeps no RSS per thread:
 * the split goes by process (serve, esbuild's service), and by kind within one (anonymous: heaps and
 * malloc arenas; file: mapped code; shared memory).
 */
export interface ProcessMemory {
  pid: number;
  name: string;
  rss: number;
  anon: number;
  file: number;
  shmem: number;
  threads: number;
}

function field(status: string, name: string): number {
  const value = new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1];
  return value ? Number(value) : 0;
}

function memoryOf(pid: number): ProcessMemory | undefined {
  const status = read(`/proc/${pid}/status`);
  if (!status) return undefined;
  return {
    pid,
    name: /^Name:\s+(.*)$/m.exec(status)?.[1] ?? "",
    rss: field(status, "VmRSS") * 1024,
    anon: field(status, "RssAnon") * 1024,
    file: field(status, "RssFile") * 1024,
    shmem: field(status, "RssShmem") * 1024,
    threads: field(status, "Threads"),
  };
}

/** `pid` and every process below it, `pid` first; empty where /proc is not there. */
export function treeMemory(pid: number): ProcessMemory[] {
  const out: ProcessMemory[] = [];
  const seen = new Set<number>();
  const stack = [pid];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    const memory = memoryOf(next);
    if (memory) out.push(memory);
    stack.push(...children(next));
  }
  return out;
}

/** Bytes resident in `pid` and every process below it; NaN where /proc is not there. */
export function treeRss(pid: number): number {
  if (!read("/proc/self/status")) return NaN;
  return treeMemory(pid).reduce((sum, p) => sum + p.rss, 0);
}
