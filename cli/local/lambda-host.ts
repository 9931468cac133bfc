/**
 * One local Lambda execution environment, run as a child process (`child_process.fork`). It loads the
 * handler once, like Lambda's init phase, then runs one invocation at a time on IPC messages. The parent
 * owns the deadline: it kills this process when an invocation times out.
 *
 * argv: `<handlerFile> <handlerExport>`; the function's whole environment comes as the process env.
 */
import { basename, extname } from "node:path";
import { format } from "node:util";
import { endMarker, type InvokeMessage, type ReadyMessage, type ResultMessage } from "./host-messages";
import type { LambdaError } from "../../core/lambda-error";
import {
  EventLoopWatch,
  handlerError,
  invokeHandler,
  settle,
  unhandledRejectionError,
  type LambdaHandler,
} from "../../core/lambda-runtime";
import { handlerExport, isLambdaError, loadModule } from "../../core/lambda-loader";
import type { InvocationContext } from "../../protocol/messages";

const [handlerFile = "", exportPath = "handler"] = process.argv.slice(2);
const env = process.env;
let current: string | undefined;
/** Whether the invocation running has written to stdout or stderr (through the process's streams). */
let wrote = false;

patchConsole();
noteWrites();
const loaded: Promise<LambdaHandler | LambdaError> = loadHandler();
// The parent starts an invocation's clock only after init, as Lambda does.
void loaded.then(() => process.send?.({ type: "ready" } satisfies ReadyMessage));
const queue: InvokeMessage[] = [];
let running = false;
// The IPC channel keeps this process alive between invocations; during one, the loop may empty.
const loop = process.channel ? new EventLoopWatch(process.channel) : undefined;

process.on("message", (message: InvokeMessage) => {
  if (message?.type !== "invoke") return;
  queue.push(message);
  if (!running) void drain();
});
// The parent is gone: nothing can receive a result any more.
process.on("disconnect", () => process.exit(0));
process.on("uncaughtException", (error) => fatal(handlerError(error)));
process.on("unhandledRejection", (reason) => fatal(unhandledRejectionError(reason)));

async function drain(): Promise<void> {
  running = true;
  for (let next = queue.shift(); next; next = queue.shift()) {
    const handler = await loaded;
    current = next.requestId;
    wrote = false;
    const result: ResultMessage =
      typeof handler === "function"
        ? await invoke(handler, next)
        : { type: "result", requestId: next.requestId, ok: false, error: handler };
    current = undefined;
    await send({ ...result, memoryMB: Math.round(process.memoryUsage.rss() / 1048576) });
  }
  running = false;
}

async function invoke(handler: LambdaHandler, message: InvokeMessage): Promise<ResultMessage> {
  const { requestId } = message;
  let event: unknown;
  try {
    event = JSON.parse(message.payload);
  } catch (error) {
    return { type: "result", requestId, ok: false, error: handlerError(error) };
  }
  loop?.start();
  const completion = await invokeHandler(handler, event, contextData(message), {
    deadline: message.deadline,
    emptyEventLoop: loop?.emptyEventLoop,
  });
  loop?.end();
  const settled = settle(completion);
  return settled.ok
    ? { type: "result", requestId, ok: true, payload: settled.json }
    : { type: "result", requestId, ok: false, error: settled.error };
}

/** What Lambda's runtime builds the context from: its environment and the invocation's headers. */
function contextData(message: InvokeMessage): InvocationContext {
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
  };
}

/** Init: loads the module and finds the export; a failure is reported by every invocation. */
async function loadHandler(): Promise<LambdaHandler | LambdaError> {
  const handlerName = env._HANDLER ?? `${basename(handlerFile, extname(handlerFile))}.${exportPath}`;
  try {
    return handlerExport(await loadModule(handlerFile), exportPath, handlerName);
  } catch (error) {
    return isLambdaError(error) ? error : handlerError(error);
  }
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

/** Notes when anything is written to stdout or stderr: the end markers are needed only then. */
function noteWrites(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = (...args: unknown[]) => {
      wrote = true;
      return write(...args);
    };
  }
}

/** Marks the end of this invocation's output on both pipes (if it wrote any), then sends the result. */
function send(message: ResultMessage): Promise<void> {
  const marker = endMarker(message.requestId);
  return new Promise((resolve) => {
    // Output that bypasses these streams (a child process writing to the inherited pipe) may then be
    // read after the result, and land in the next invocation's log.
    if (!wrote) {
      if (process.connected) process.send?.({ ...message, quiet: true }, () => resolve());
      else resolve();
      return;
    }
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
