/**
 * The worker thread that runs one function's handler for one remote execution environment: it starts
 * blank (the pool may keep one waiting as a spare), is told which bundle to load and with what
 * environment, loads it once (the cold start), then runs the invocations the pool posts, one at a time,
 * through the runtime core (`core/lambda-runtime`), as Lambda's Node.js runtime runs them.
 */
import { performance } from "node:perf_hooks";
import { parentPort } from "node:worker_threads";
import { capturedWrite } from "./captured-write";
import type { InvokeMessage, LoadMessage, ParentMessage, WorkerData, WorkerMessage } from "./worker-messages";
import {
  EventLoopWatch,
  handlerError,
  invokeHandler,
  settle,
  unhandledRejectionError,
  type LambdaHandler,
} from "../../core/lambda-runtime";
import { handlerExport, isLambdaError, loadModule } from "../../core/lambda-loader";
import { streamingNotDeclaredError } from "../../core/lambda-error";
import { isStreamingHandler } from "../../core/awslambda";
import { invokeStreamingHandler } from "../../core/lambda-streaming";
import { ChannelSink } from "../../core/stream-channel";

const port = parentPort;
if (!port) throw new Error("worker-entry.js must run in a worker thread started by WorkerPool");
const post = (message: WorkerMessage, transfer?: ArrayBuffer[]): void => port.postMessage(message, transfer);
const loop = new EventLoopWatch(port);

captureOutput();
// Lambda ends the runtime on these; the pool replaces this worker when it hears of them.
process.on("unhandledRejection", (reason) => post({ type: "fatal", error: unhandledRejectionError(reason) }));
process.on("uncaughtException", (error) => post({ type: "fatal", error: handlerError(error) }));

let handler: Promise<LambdaHandler> | undefined;
/** Which handler this worker loaded (set by the load message). */
let data: WorkerData | undefined;
/** The streamed invocation running, if any: the parent's acknowledgements and cancel go to it. */
let streaming: { sink: ChannelSink; abort: AbortController } | undefined;
port.on("message", (message: ParentMessage) => {
  if (message.type === "load") return load(message);
  if (message.type === "invoke") return void run(message);
  if (message.type === "stream-ack") return streaming?.sink.ack(message.bytes);
  streaming?.abort.abort();
});

function load(message: LoadMessage): void {
  // The function's environment replaces the blank one before any of its code runs, as on Lambda.
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, message.env);
  data = message.data;
  const loading = loadHandler(message.data);
  handler = loading;
  // A failure is reported by the invocation that awaits it, not as an unhandled rejection.
  loading.then(
    () => post({ type: "loaded" }),
    () => post({ type: "loaded" }),
  );
}

async function run(message: InvokeMessage): Promise<void> {
  let loaded: LambdaHandler;
  let streams: boolean;
  try {
    if (!handler) throw handlerError(new Error("the worker was asked to invoke before loading a handler"));
    loaded = await handler;
    streams = isStreamingHandler(loaded);
  } catch (error) {
    post({ type: "fatal", error: isLambdaError(error) ? error : handlerError(error) });
    return;
  }
  const started = performance.now();
  if (streams) return runStreaming(loaded, message, started);
  loop.start();
  const completion = await invokeHandler(loaded, message.event, message.context, {
    deadline: message.deadline,
    emptyEventLoop: loop.emptyEventLoop,
  });
  loop.end();
  // Lambda returns JSON: serialize here, so what crosses the thread is exactly what Lambda would send.
  const settled = settle(completion);
  const durationMs = performance.now() - started;
  post(
    settled.ok
      ? { type: "result", json: settled.json, durationMs }
      : { type: "error", error: settled.error, durationMs },
  );
}

/**
 * A streaming handler: its bytes go to the parent as it writes them. The port stays referenced, as the
 * writes wait for the parent's acknowledgements on it.
 */
async function runStreaming(loaded: LambdaHandler, message: InvokeMessage, started: number): Promise<void> {
  if (!message.stream) {
    post({ type: "error", error: streamingNotDeclaredError(data?.handlerName ?? ""), durationMs: 0 });
    return;
  }
  const sink = new ChannelSink(post);
  const abort = new AbortController();
  streaming = { sink, abort };
  abort.signal.addEventListener("abort", () => sink.cancel(new Error("The caller went away.")));
  const completion = await invokeStreamingHandler(loaded, message.event, message.context, {
    deadline: message.deadline,
    sink,
    signal: abort.signal,
  });
  streaming = undefined;
  const durationMs = performance.now() - started;
  post(
    completion.ok
      ? { type: "streamed", durationMs }
      : { type: "error", error: handlerError(completion.error), durationMs },
  );
}

/** Loads the bundle and finds the export, failing with the error Lambda's runtime would report. */
async function loadHandler(data: WorkerData): Promise<LambdaHandler> {
  try {
    return handlerExport(await loadModule(data.file, data.format), data.exportName, data.handlerName);
  } catch (error) {
    throw isLambdaError(error) ? error : handlerError(error);
  }
}

/**
 * Sends the handler's output over the same port as its results, so every line reaches the pool
 * before the result it belongs to.
 */
function captureOutput(): void {
  for (const stream of ["stdout", "stderr"] as const) {
    process[stream].write = capturedWrite((text) => post({ type: "log", stream, text }));
  }
}
