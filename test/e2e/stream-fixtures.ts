import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Streaming handlers of the end-to-end tests; `mode` (event, or query string) picks what they do. */
export const STREAM_HANDLERS: Record<string, string> = {
  "src/stream.ts": `import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
declare const awslambda: any;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Chunk i of a big stream: 64 KB of the byte i % 251. Says how far it got every 4 MB. */
function* pattern(total: number) {
  for (let i = 0, sent = 0; sent < total; i++) {
    const size = Math.min(65536, total - sent);
    sent += size;
    yield Buffer.alloc(size, i % 251);
    if (sent % (4 * 1048576) === 0) console.log("handler wrote " + sent / 1048576 + " MB");
  }
}

export const handler = awslambda.streamifyResponse(async (event: any, responseStream: any) => {
  const mode = event.mode ?? event.queryStringParameters?.mode ?? "slow";
  if (mode === "slow") {
    const stream = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: 207,
      headers: { "content-type": "text/plain", "x-stream": "yes" },
      cookies: ["flavor=streamed; Path=/"],
    });
    stream.write("first\\n");
    await sleep(1000);
    stream.write("second\\n");
    stream.end();
  } else if (mode === "big") {
    const total = Number(event.bytes ?? event.queryStringParameters?.bytes);
    await pipeline(Readable.from(pattern(total)), responseStream);
  } else if (mode === "fail") {
    responseStream.write("partial");
    await sleep(200);
    throw new TypeError("mid-stream failure");
  } else if (mode === "endless") {
    let ticks = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => responseStream.write("tick " + ticks++ + "\\n"), 20);
      responseStream.on("close", () => {
        clearInterval(timer);
        console.log("stream closed after " + ticks + " ticks: " + responseStream.errored?.message);
        resolve();
      });
    });
  } else if (mode === "never-ends") {
    responseStream.write("started");
    await new Promise(() => undefined);
  }
});
`,
  "src/plain.ts": `export const handler = async (event: any) => ({ plain: true, got: event });
`,
};

/** The bytes of a big stream, as the handler makes them. */
export function patternHash(total: number): string {
  const hash = createHash("sha256");
  for (let i = 0, sent = 0; sent < total; i++) {
    const size = Math.min(65536, total - sent);
    sent += size;
    hash.update(Buffer.alloc(size, i % 251));
  }
  return hash.digest("hex");
}

/** Linux's memory counters of a process (kB → bytes), or undefined where /proc is not there. */
async function status(pid: number | "self"): Promise<Record<string, number> | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/status`, "utf8");
    const out: Record<string, number> = {};
    for (const line of text.split("\n")) {
      const match = /^(Vm\w+):\s+(\d+) kB/.exec(line);
      if (match) out[match[1]] = Number(match[2]) * 1024;
    }
    return out;
  } catch {
    return undefined;
  }
}

/** A process's resident memory now (bytes), or undefined where /proc is not there. */
export async function residentBytes(pid: number | "self"): Promise<number | undefined> {
  return (await status(pid))?.VmRSS;
}

/**
 * Peak resident memory of a process from now on: Linux's high-water mark is reset (`clear_refs` 5), and
 * `peak()` says how far above the resident size at the reset it went.
 */
export async function peakFrom(pid: number | "self"): Promise<(() => Promise<number>) | undefined> {
  const before = await status(pid);
  if (!before) return undefined;
  await writeFile(`/proc/${pid}/clear_refs`, "5");
  const start = (await status(pid))!.VmRSS;
  return async () => ((await status(pid))?.VmHWM ?? 0) - start;
}

/** V8's `gc()`, made reachable without starting Node with --expose-gc. */
function collector(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

/**
 * The most memory this process holds from now on (JS heap and buffers, each sample taken after a full
 * collection, every `everyMs`), above what it held at the start. Garbage not yet collected is not counted:
 * with the broker, the gateway, the session, its worker and the HTTP client in one process, the peak
 * resident size says more about the collector's pace than about what the stream keeps.
 */
export function heldPeakFrom(everyMs = 100): () => number {
  const gc = collector();
  const held = () => {
    gc();
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.arrayBuffers;
  };
  const start = held();
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, held())), everyMs);
  return () => {
    clearInterval(timer);
    return Math.max(peak, held()) - start;
  };
}
