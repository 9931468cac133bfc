/**
 * The reference side of the frameworks suite: a handler's deployed bundle (`sdk/bundle.ts`, what
 * `pulumi up` ships) called in this process the way Lambda's Node.js runtime calls it — event, context,
 * callback; the first of the returned promise and the callback answers — with its console patched as
 * Lambda patches it. Written apart from `core/lambda-runtime` on purpose: it is the oracle.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { format } from "node:util";
import { bundleHandler } from "../../sdk/bundle";
import { Problems } from "../../sdk/errors";
import { resolveHandler } from "../../sdk/handler-source";

export interface Answer {
  result?: unknown;
  error?: { errorType: string; errorMessage: string; trace: string[] };
  /** The records the invocation logged, one entry per line of text. */
  logs: string[];
}

type Handler = (event: unknown, context: object, callback: (e?: unknown, r?: unknown) => void) => unknown;

/** Bundles `src/<name>.ts` as the deployed function would be, and loads it. */
export async function loadDeployed(root: string, name: string): Promise<Handler> {
  const problems = new Problems();
  const source = resolveHandler(`src/${name}.handler`, root, problems);
  const bundle =
    source && bundleHandler(source, { minify: false, sourcemap: false }, root, "node20", problems);
  if (!bundle) throw new Error(JSON.stringify(problems.list));
  const dir = path.join(root, "deployed", name);
  await mkdir(dir, { recursive: true });
  for (const [file, contents] of Object.entries(bundle.files))
    await writeFile(path.join(dir, file), contents);
  const file = path.join(dir, bundle.entry);
  const module = (bundle.entry.endsWith(".mjs") ? await import(file) : require(file)) as { handler: Handler };
  return module.handler;
}

/** The context Lambda gives, with the values of a function served by `serve --local` (us-east-1, 128 MB). */
export function lambdaContext(name: string, requestId: string): Record<string, unknown> {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionVersion: "$LATEST",
    functionName: name,
    memoryLimitInMB: "128",
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: "2026/01/01/[$LATEST]0123456789abcdef",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => 30_000,
  };
}

/** Calls a handler as Lambda does, capturing what it writes; one call at a time. */
export async function callAsLambda(
  handler: Handler,
  event: unknown,
  context: Record<string, unknown>,
): Promise<Answer> {
  const written: string[] = [];
  const saved = { ...console };
  const [stdout, stderr] = [process.stdout.write, process.stderr.write];
  const capture = ((chunk: string | Uint8Array) => {
    written.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  // Lambda's text log format: time, request id, level, the message with its line breaks as \r.
  const levels = { log: "INFO", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG", trace: "TRACE" };
  for (const [method, level] of Object.entries(levels)) {
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
      process.stdout.write(
        `${new Date().toISOString()}\t${String(context.awsRequestId)}\t${level}\t${format(...args).replace(/\n/g, "\r")}\n`,
      );
  }
  try {
    const outcome = await new Promise<{ error?: unknown; result?: unknown }>((resolve) => {
      let done = false;
      const finish = (error: unknown, result?: unknown) => {
        if (done) return;
        done = true;
        resolve(error !== undefined && error !== null ? { error } : { result });
      };
      Object.assign(context, {
        done: finish,
        succeed: (result: unknown) => finish(null, result),
        fail: (error: unknown) => finish(error ?? "handled"),
      });
      try {
        const returned = handler(event, context, finish) as PromiseLike<unknown> | undefined;
        if (typeof returned?.then === "function") {
          returned.then(
            (result) => finish(null, result),
            (error: unknown) => finish(error ?? "handled"),
          );
        }
      } catch (error) {
        finish(error);
      }
    });
    const logs = logLines(written.join(""));
    if ("error" in outcome) {
      const e = outcome.error as Error;
      return {
        error: { errorType: e.name, errorMessage: e.message, trace: String(e.stack).split("\n") },
        logs,
      };
    }
    return { result: JSON.parse(JSON.stringify(outcome.result ?? null)) as unknown, logs };
  } finally {
    Object.assign(console, saved);
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
}

const LAMBDA_PREFIX = /^\d{4}-\d\d-\d\dT[\d:.]+Z\t\S+\t[A-Z]+\t/;

/** Log text as lines of messages: Lambda's record prefix removed, records' `\r` line breaks split. */
export function logLines(text: string): string[] {
  return text
    .split("\n")
    .filter((line, index, all) => line !== "" || index < all.length - 1)
    .map((line) => line.replace(LAMBDA_PREFIX, ""))
    .flatMap((line) => line.split("\r"))
    .map(normalizeJson);
}

/** A structured log line without what differs between any two runs (time, request and trace ids). */
function normalizeJson(line: string): string {
  if (!line.startsWith("{")) return line;
  try {
    const record = JSON.parse(line) as Record<string, unknown>;
    for (const key of ["timestamp", "function_request_id", "xray_trace_id"]) delete record[key];
    // An error's stack names files: the deployed bundle's here, the source (mapped) in a worker.
    for (const value of Object.values(record)) {
      if (value && typeof value === "object" && "stack" in value) {
        const error = value as Record<string, unknown>;
        error.stack = String(error.stack).split("\n")[0];
        delete error.location;
      }
    }
    return JSON.stringify(record);
  } catch {
    return line;
  }
}
