/**
 * The worker thread that runs one function's handler for one remote execution environment: it loads
 * the bundle once (the cold start), then runs the invocations the pool posts, one at a time.
 */
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import type { InvocationContext } from "../../protocol/messages";
import type { InvokeMessage, WorkerData, WorkerMessage } from "./worker-messages";
import { toLambdaError, type LambdaError } from "../../core/lambda-error";

type Callback = (error?: unknown, result?: unknown) => void;
type Handler = (event: unknown, context: LambdaContext, callback: Callback) => unknown;

/** The `context` a Lambda Node.js handler receives. */
interface LambdaContext extends InvocationContext {
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
  done(error?: unknown, result?: unknown): void;
  succeed(result?: unknown): void;
  fail(error?: unknown): void;
}

const port = parentPort;
if (!port) throw new Error("worker-entry.js must run in a worker thread started by WorkerPool");
const data = workerData as WorkerData;
const post = (message: WorkerMessage): void => port.postMessage(message);

captureOutput();
// Lambda ends the runtime on these; the pool replaces this worker when it hears of them.
process.on("unhandledRejection", (reason) => {
  const error = reason instanceof Error ? reason : undefined;
  post({
    type: "fatal",
    error: {
      errorType: "Runtime.UnhandledPromiseRejection",
      errorMessage: error ? `${error.name}: ${error.message}` : String(reason),
      trace: error?.stack?.split("\n") ?? [],
    },
  });
});
process.on("uncaughtException", (error) => post({ type: "fatal", error: toLambdaError(error) }));

const handler = loadHandler();
// Its failure is reported by the invocation that awaits it, not as an unhandled rejection.
handler.catch(() => undefined);
port.on("message", (message: InvokeMessage) => void run(message));

async function run(message: InvokeMessage): Promise<void> {
  let loaded: Handler;
  try {
    loaded = await handler;
  } catch (error) {
    post({ type: "fatal", error: error as LambdaError });
    return;
  }
  const started = performance.now();
  try {
    const result = await invoke(loaded, message);
    // Lambda returns JSON: serialize here, so what crosses the thread is exactly what Lambda would send.
    const json = JSON.stringify(result) ?? "null";
    post({ type: "result", json, durationMs: performance.now() - started });
  } catch (error) {
    post({ type: "error", error: toLambdaError(error), durationMs: performance.now() - started });
  }
}

/**
 * Runs the handler as Lambda's Node.js runtime does: a returned promise, or the callback, settles it;
 * a handler that takes no callback and returns no promise answers null.
 */
function invoke(fn: Handler, message: InvokeMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback: Callback = (error, result) => {
      if (settled) return;
      settled = true;
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- Lambda fails with the value as given
      if (error !== undefined && error !== null) reject(error);
      else resolve(result);
    };
    const context: LambdaContext = {
      ...message.context,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
      done: callback,
      succeed: (result) => callback(null, result),
      fail: (error) => callback(error ?? "handled"),
    };
    if (message.context.identity === undefined) delete context.identity;
    if (message.context.clientContext === undefined) delete context.clientContext;
    const returned = fn(message.event, context, callback);
    if (isThenable(returned)) {
      returned.then(
        (result) => callback(null, result),
        (error: unknown) =>
          callback(error ?? new Error("The handler's promise was rejected without a reason")),
      );
    } else if (fn.length < 3) {
      // A plain function that takes no callback is done when it returns (Lambda would wait for an
      // empty event loop, which a worker cannot observe). Lambda ignores what it returned and answers
      // null; context.succeed/done called before returning have already settled the invocation.
      callback(null, null);
    }
  });
}

/** Loads the bundle and finds the export, failing with the error Lambda's runtime would report. */
async function loadHandler(): Promise<Handler> {
  let module: Record<string, unknown>;
  try {
    module =
      data.format === "esm"
        ? ((await import(pathToFileURL(data.file).href)) as Record<string, unknown>)
        : (require(data.file) as Record<string, unknown>);
  } catch (error) {
    throw importError(error);
  }
  const fn = module[data.exportName];
  if (fn === undefined || fn === null) {
    throw runtimeError("Runtime.HandlerNotFound", `${data.handlerName} is undefined or not exported`);
  }
  if (typeof fn !== "function") {
    throw runtimeError("Runtime.HandlerNotFound", `${data.handlerName} is not a function`);
  }
  return fn as Handler;
}

function importError(error: unknown): LambdaError {
  const code = (error as { code?: unknown } | undefined)?.code;
  const described = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") {
    return runtimeError("Runtime.ImportModuleError", described, error);
  }
  if (error instanceof SyntaxError) return runtimeError("Runtime.UserCodeSyntaxError", described, error);
  return toLambdaError(error);
}

function runtimeError(errorType: string, errorMessage: string, cause?: unknown): LambdaError {
  const stack = cause instanceof Error && cause.stack ? cause.stack.split("\n").slice(1) : [];
  return { errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, ...stack] };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/**
 * Sends the handler's output over the same port as its results, so every line reaches the pool
 * before the result it belongs to.
 */
function captureOutput(): void {
  for (const stream of ["stdout", "stderr"] as const) {
    const target = process[stream];
    target.write = (chunk: string | Uint8Array, encoding?: unknown, done?: unknown): boolean => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      post({ type: "log", stream, text });
      const callback = typeof encoding === "function" ? encoding : done;
      if (typeof callback === "function") process.nextTick(callback);
      return true;
    };
  }
}
