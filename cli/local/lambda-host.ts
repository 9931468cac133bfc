/**
 * One local Lambda execution environment, run as a child process (`child_process.fork`). It loads the
 * handler once, like Lambda's init phase, then runs one invocation at a time on IPC messages. The parent
 * owns the deadline: it kills this process when an invocation times out.
 *
 * argv: `<handlerFile> <handlerExport>`; the function's whole environment comes as the process env.
 */
import { basename, extname } from "node:path";
import { pathToFileURL } from "node:url";
import { format } from "node:util";
import { endMarker, type InvokeMessage, type ReadyMessage, type ResultMessage } from "./host-messages";
import { toLambdaError, type LambdaError } from "../../core/lambda-error";

type Handler = (
  event: unknown,
  context: object,
  callback: (error?: unknown, result?: unknown) => void,
) => unknown;

const [handlerFile = "", handlerExport = "handler"] = process.argv.slice(2);
const env = process.env;
let current: string | undefined;

patchConsole();
const loaded: Promise<Handler | LambdaError> = loadHandler().catch(importError);
// The parent starts an invocation's clock only after init, as Lambda does.
void loaded.then(() => process.send?.({ type: "ready" } satisfies ReadyMessage));
const queue: InvokeMessage[] = [];
let running = false;

process.on("message", (message: InvokeMessage) => {
  if (message?.type !== "invoke") return;
  queue.push(message);
  if (!running) void drain();
});
// The parent is gone: nothing can receive a result any more.
process.on("disconnect", () => process.exit(0));
process.on("uncaughtException", (error) => fatal(toLambdaError(error)));
process.on("unhandledRejection", (reason) => {
  const e = toLambdaError(reason);
  fatal({
    ...e,
    errorType: "Runtime.UnhandledPromiseRejection",
    errorMessage: `${e.errorType}: ${e.errorMessage}`,
  });
});

async function drain(): Promise<void> {
  running = true;
  for (let next = queue.shift(); next; next = queue.shift()) {
    const handler = await loaded;
    current = next.requestId;
    const result: ResultMessage =
      typeof handler === "function"
        ? await invoke(handler, next)
        : { type: "result", requestId: next.requestId, ok: false, error: handler };
    current = undefined;
    await send({ ...result, memoryMB: Math.round(process.memoryUsage.rss() / 1048576) });
  }
  running = false;
}

async function invoke(handler: Handler, message: InvokeMessage): Promise<ResultMessage> {
  const { requestId } = message;
  try {
    const event: unknown = JSON.parse(message.payload);
    const result = await call(handler, event, lambdaContext(message));
    return { type: "result", requestId, ok: true, payload: JSON.stringify(result) ?? "null" };
  } catch (error) {
    return { type: "result", requestId, ok: false, error: toLambdaError(error) };
  }
}

/** Calls an async or a callback-style handler, as Lambda's Node.js runtime does. */
function call(handler: Handler, event: unknown, context: Record<string, unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (error?: unknown, result?: unknown): void => {
      if (settled) return;
      settled = true;
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- Lambda fails with the value as given
      if (error !== undefined && error !== null) reject(error);
      else resolve(result);
    };
    // The legacy context methods some handlers still call.
    Object.assign(context, {
      done,
      succeed: (result: unknown) => done(null, result),
      fail: (error: unknown) => done(error ?? new Error("handled")),
    });
    try {
      const returned = handler(event, context, done);
      if (isThenable(returned))
        returned.then(
          (result) => done(null, result),
          (error) => done(error ?? new Error(String(error))),
        );
      // A synchronous handler without a callback parameter: Lambda ignores its return value.
      else if (handler.length < 3) done(null, null);
    } catch (error) {
      done(error);
    }
  });
}

function lambdaContext(message: InvokeMessage): Record<string, unknown> {
  const name = env.AWS_LAMBDA_FUNCTION_NAME ?? "local";
  const region = env.AWS_REGION ?? "us-east-1";
  return {
    awsRequestId: message.requestId,
    functionName: name,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${name}`,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? "128",
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? `/aws/lambda/${name}`,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? "",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
  };
}

async function loadHandler(): Promise<Handler | LambdaError> {
  let exports: unknown;
  try {
    exports = require(handlerFile);
  } catch (error) {
    // An ES module (.mjs or "type": "module"): Lambda imports those.
    if ((error as { code?: string }).code !== "ERR_REQUIRE_ESM") throw error;
    exports = await import(pathToFileURL(handlerFile).href);
  }
  let value: unknown = exports;
  for (const key of handlerExport.split(".")) value = (value as Record<string, unknown> | undefined)?.[key];
  if (typeof value === "function") return value as Handler;
  const module = basename(handlerFile, extname(handlerFile));
  return {
    errorType: "Runtime.HandlerNotFound",
    errorMessage: `${module}.${handlerExport} is undefined or not exported`,
    trace: [],
  };
}

/** Init failures, reported on every invocation with the types Lambda's runtime uses. */
function importError(error: unknown): LambdaError {
  const e = toLambdaError(error);
  const code = (error as { code?: string } | undefined)?.code;
  if (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") {
    return {
      ...e,
      errorType: "Runtime.ImportModuleError",
      errorMessage: `${e.errorType}: ${e.errorMessage}`,
    };
  }
  if (error instanceof SyntaxError) {
    return { ...e, errorType: "Runtime.UserCodeSyntaxError", errorMessage: `SyntaxError: ${e.errorMessage}` };
  }
  return e;
}

/** Lambda's runtime prefixes each console record with time, request id and level. */
function patchConsole(): void {
  const levels = { log: "INFO", info: "INFO", debug: "DEBUG", warn: "WARN", error: "ERROR" } as const;
  for (const [method, level] of Object.entries(levels)) {
    const stream = level === "WARN" || level === "ERROR" ? process.stderr : process.stdout;
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      stream.write(`${new Date().toISOString()}\t${current ?? "undefined"}\t${level}\t${format(...args)}\n`);
    };
  }
}

/** Marks the end of this invocation's output on both pipes, then sends the result. */
function send(message: ResultMessage): Promise<void> {
  const marker = endMarker(message.requestId);
  return new Promise((resolve) => {
    process.stdout.write(marker, () =>
      process.stderr.write(marker, () => {
        if (process.connected) process.send?.(message, () => resolve());
        else resolve();
      }),
    );
  });
}

/** An error outside any handler's promise: Lambda fails the invocation and resets the environment. */
function fatal(error: LambdaError): void {
  const requestId = current;
  if (requestId === undefined) {
    process.stderr.write(`${error.errorType}: ${error.errorMessage}\n`);
    process.exit(1);
  }
  current = undefined;
  void send({ type: "result", requestId, ok: false, error, fatal: true }).finally(() => process.exit(1));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === "function";
}
