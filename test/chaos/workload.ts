/**
 * The invocations of a chaos run: their kinds and sizes, drawn from a seeded generator, the handler that
 * answers them (counting its runs by request id in a file every session process appends to), and the
 * check of each outcome against what the handler must have returned.
 */
import { createHash, randomUUID } from "node:crypto";
import { PUBLIC_UNAVAILABLE_MESSAGE } from "../../stub/http-event";
import type { Random } from "./random";

/** The handler every chaos session serves. */
export const CHAOS_HANDLER = `import { appendFileSync } from "node:fs";
import { createHash } from "node:crypto";

type Spec = { id: string; data: string; reply: number; waitMs: number };

export async function handler(event: any, context: { awsRequestId: string }) {
  // Counted first: a run that never returns (its session killed) still counts.
  appendFileSync(process.env.CHAOS_RUNS!, context.awsRequestId + "\\n");
  const spec: Spec = event.version === "2.0" ? JSON.parse(event.body) : event.Records ? JSON.parse(event.Records[0].body) : event;
  if (spec.waitMs) await new Promise((resolve) => setTimeout(resolve, spec.waitMs));
  const out = { id: spec.id, digest: createHash("sha256").update(spec.data).digest("hex"), echo: "r".repeat(spec.reply) };
  return event.version === "2.0" ? { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(out) } : out;
}
`;

export type InvocationKind = "sync" | "http" | "async";

export interface Invocation {
  requestId: string;
  kind: InvocationKind;
  /** Bytes of data in the event, and asked for in the result. */
  requestBytes: number;
  replyBytes: number;
  event: unknown;
  digest: string;
  /** The function's timeout for this invocation (ms). */
  timeoutMs: number;
}

/**
 * Mostly small payloads, some medium, a few large (1 KB to 2 MB): as a function's traffic looks, and what
 * a 2-core machine can push through twice in about two minutes.
 */
export function drawSize(random: Random): number {
  const r = random.next();
  if (r < 0.7) return random.between(1024, 4096);
  if (r < 0.9) return random.between(4096, 64 * 1024);
  if (r < 0.98) return random.between(64 * 1024, 512 * 1024);
  return random.between(512 * 1024, 2 * 1024 * 1024);
}

/** Data of `size` bytes: half of it compresses well, half not at all (base64 of random bytes). */
function dataOf(random: Random, size: number): string {
  if (random.next() < 0.5) return "abcdefgh".repeat(Math.ceil(size / 8)).slice(0, size);
  const bytes = Buffer.alloc(Math.ceil((size * 3) / 4) + 4);
  for (let i = 0; i + 4 <= bytes.length; i += 4)
    bytes.writeUInt32LE(Math.floor(random.next() * 4294967296), i);
  return bytes.toString("base64").slice(0, size);
}

export function drawInvocation(random: Random, timeoutMs: number): Invocation {
  const requestId = randomUUID();
  const kind = random.pick<InvocationKind>(["sync", "http", "async"]);
  const requestBytes = drawSize(random);
  const replyBytes = drawSize(random);
  const data = dataOf(random, requestBytes);
  const spec = {
    id: requestId,
    data,
    reply: replyBytes,
    waitMs: random.chance(0.1) ? random.between(50, 500) : 0,
  };
  const event =
    kind === "http"
      ? {
          version: "2.0",
          rawPath: "/chaos",
          requestContext: { http: { method: "POST", path: "/chaos" } },
          body: JSON.stringify(spec),
          isBase64Encoded: false,
        }
      : kind === "async"
        ? { Records: [{ messageId: requestId, body: JSON.stringify(spec) }] }
        : spec;
  return {
    requestId,
    kind,
    requestBytes,
    replyBytes,
    event,
    digest: createHash("sha256").update(data).digest("hex"),
    timeoutMs,
  };
}

export type Outcome =
  | { kind: "answered" }
  /** Failed with a `PulumiLive.*` error (or, for HTTP events, the stub's 503) within its deadline. */
  | { kind: "failed"; code: string }
  /** Anything else: a wrong result, an unclear error, a late settle. Must never happen. */
  | { kind: "lost"; why: string };

function matches(invocation: Invocation, result: unknown): boolean {
  const out = result as { id?: string; digest?: string; echo?: string } | undefined;
  return (
    out?.id === invocation.requestId &&
    out.digest === invocation.digest &&
    typeof out.echo === "string" &&
    out.echo.length === invocation.replyBytes
  );
}

/** Judges what a relay's `handle` settled with, `elapsedMs` after it started. */
export function judge(
  invocation: Invocation,
  settled: { result?: unknown; error?: unknown },
  elapsedMs: number,
): Outcome {
  if (elapsedMs > invocation.timeoutMs + 1000) return { kind: "lost", why: `settled after ${elapsedMs} ms` };
  if (settled.error !== undefined) {
    const name = (settled.error as Error)?.name ?? "";
    if (name.startsWith("PulumiLive.")) return { kind: "failed", code: name };
    return {
      kind: "lost",
      why: `unclear error: ${settled.error instanceof Error ? settled.error.message : JSON.stringify(settled.error)}`,
    };
  }
  if (invocation.kind === "http") {
    const response = settled.result as { statusCode?: number; body?: string };
    if (response?.statusCode === 503) {
      const message = (JSON.parse(response.body ?? "{}") as { message?: string }).message ?? "";
      // The caller is told only that; the reason goes to the function's log.
      return message === PUBLIC_UNAVAILABLE_MESSAGE
        ? { kind: "failed", code: "HTTP 503" }
        : { kind: "lost", why: `503 without the stub's message: ${message}` };
    }
    if (response?.statusCode === 200 && matches(invocation, JSON.parse(response.body ?? "null"))) {
      return { kind: "answered" };
    }
    return { kind: "lost", why: `wrong HTTP result ${String(response?.statusCode)}` };
  }
  return matches(invocation, settled.result) ? { kind: "answered" } : { kind: "lost", why: "wrong result" };
}
