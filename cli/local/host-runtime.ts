/**
 * What a local Lambda execution environment runs, whichever way it is hosted (a child process,
 * `lambda-host.ts`, or a worker thread, `lambda-thread-host.ts`): it loads the handler once, like
 * Lambda's init phase, then runs one invocation at a time as the parent asks. The parent owns the
 * deadline: it ends the environment when an invocation times out.
 */
import { basename, extname } from "node:path";
import { format } from "node:util";
import type {
  HostStreamMessage,
  InvokeMessage,
  ParentMessage,
  ReadyMessage,
  ResultMessage,
} from "./host-messages";
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
import { isStreamingHandler } from "../../core/awslambda";
import { invokeStreamingHandler } from "../../core/lambda-streaming";
import { ChannelSink } from "../../core/stream-channel";
import type { InvocationContext } from "../../protocol/messages";

/** How a host talks to its parent. */
export interface HostChannel {
  /** Posts a message; `transfer` lists buffers moved rather than copied (where the channel can). */
  post(message: ReadyMessage | HostStreamMessage, transfer?: ArrayBuffer[]): void;
  /** Sends an invocation's result once its output is known to have reached the parent. */
  sendResult(message: ResultMessage, transfer?: ArrayBuffer[]): Promise<void>;
  /** Calls `listener` with each message of the parent. */
  onMessage(listener: (message: ParentMessage) => void): void;
  /** What keeps the host alive between invocations: the loop may empty during one. */
  keepAlive?: { ref(): void; unref(): void };
  /** An invocation starts (the process host resets what it knows of its output). */
  invocationStarts?(): void;
  /** The environment's memory in MB, for the REPORT line. */
  memoryMB(): number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Runs the environment: init now, then the invocations the parent sends, one at a time. */
export function runHost(channel: HostChannel, handlerFile: string, exportPath: string): void {
  const env = process.env;
  let current: string | undefined;
  const queue: InvokeMessage[] = [];
  let running = false;
  const loop = channel.keepAlive ? new EventLoopWatch(channel.keepAlive) : undefined;
  /** The streamed invocation running, if any: the parent's acknowledgements and cancel go to it. */
  let streaming: { requestId: string; sink: ChannelSink; abort: AbortController } | undefined;

  patchConsole(() => current);
  const loaded: Promise<LambdaHandler | LambdaError> = loadHandler(handlerFile, exportPath);
  // The parent starts an invocation's clock only after init, as Lambda does.
  void loaded.then(() => channel.post({ type: "ready" }));

  channel.onMessage((message) => {
    if (message?.type === "stream-ack" || message?.type === "stream-cancel") {
      if (streaming?.requestId !== message.requestId) return;
      if (message.type === "stream-ack") streaming.sink.ack(message.bytes);
      else streaming.abort.abort();
      return;
    }
    if (message?.type !== "invoke") return;
    queue.push(message);
    if (!running) void drain();
  });
  process.on("uncaughtException", (error) => fatal(handlerError(error)));
  process.on("unhandledRejection", (reason) => fatal(unhandledRejectionError(reason)));

  async function drain(): Promise<void> {
    running = true;
    for (let next = queue.shift(); next; next = queue.shift()) {
      const handler = await loaded;
      current = next.requestId;
      channel.invocationStarts?.();
      const result: ResultMessage =
        typeof handler === "function"
          ? await invoke(handler, next)
          : { type: "result", requestId: next.requestId, ok: false, error: handler };
      current = undefined;
      const transfer = result.ok && "payload" in result ? [result.payload.buffer as ArrayBuffer] : [];
      await channel.sendResult({ ...result, memoryMB: channel.memoryMB() }, transfer);
    }
    running = false;
  }

  async function invoke(handler: LambdaHandler, message: InvokeMessage): Promise<ResultMessage> {
    const { requestId } = message;
    let event: unknown;
    try {
      event = JSON.parse(decoder.decode(message.payload));
    } catch (error) {
      return { type: "result", requestId, ok: false, error: handlerError(error) };
    }
    if (isStreamingHandler(handler)) return invokeStreaming(handler, event, message);
    loop?.start();
    const completion = await invokeHandler(handler, event, contextData(message), {
      deadline: message.deadline,
      emptyEventLoop: loop?.emptyEventLoop,
    });
    loop?.end();
    const settled = settle(completion);
    // Encoded here, into a buffer of its own that a thread moves to the parent.
    return settled.ok
      ? { type: "result", requestId, ok: true, payload: encoder.encode(settled.json) }
      : { type: "result", requestId, ok: false, error: settled.error };
  }

  /**
   * A streaming handler: its bytes go to the parent as it writes them, each write waiting while the
   * parent holds a window's worth (the channel stays referenced: the acknowledgements come on it).
   */
  async function invokeStreaming(
    handler: LambdaHandler,
    event: unknown,
    message: InvokeMessage,
  ): Promise<ResultMessage> {
    const { requestId } = message;
    const sink = new ChannelSink((part, transfer) => channel.post({ ...part, requestId }, transfer));
    const abort = new AbortController();
    abort.signal.addEventListener("abort", () => sink.cancel(new Error("The caller went away.")));
    streaming = { requestId, sink, abort };
    const completion = await invokeStreamingHandler(handler, event, contextData(message), {
      deadline: message.deadline,
      sink,
      signal: abort.signal,
    });
    streaming = undefined;
    return completion.ok
      ? { type: "result", requestId, ok: true, streamed: true }
      : { type: "result", requestId, ok: false, error: handlerError(completion.error) };
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

  /** An error outside any handler's promise: Lambda fails the invocation and resets the environment. */
  function fatal(error: LambdaError): void {
    const requestId = current;
    if (requestId === undefined) {
      process.stderr.write(`${error.errorType}: ${error.errorMessage}\n`);
      process.exit(1);
    }
    current = undefined;
    void channel
      .sendResult({ type: "result", requestId, ok: false, error, fatal: true })
      .finally(() => process.exit(1));
  }
}

/** Init: loads the module and finds the export; a failure is reported by every invocation. */
async function loadHandler(handlerFile: string, exportPath: string): Promise<LambdaHandler | LambdaError> {
  const handlerName = process.env._HANDLER ?? `${basename(handlerFile, extname(handlerFile))}.${exportPath}`;
  try {
    const loaded = handlerExport(await loadModule(handlerFile), exportPath, handlerName);
    isStreamingHandler(loaded); // a malformed streaming mark fails init, as on Lambda
    return loaded;
  } catch (error) {
    return isLambdaError(error) ? error : handlerError(error);
  }
}

/** Lambda's runtime prefixes each console record with time, request id and level. */
function patchConsole(current: () => string | undefined): void {
  const levels = { log: "INFO", info: "INFO", debug: "DEBUG", warn: "WARN", error: "ERROR" } as const;
  for (const [method, level] of Object.entries(levels)) {
    const stream = level === "WARN" || level === "ERROR" ? process.stderr : process.stdout;
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      stream.write(
        `${new Date().toISOString()}\t${current() ?? "undefined"}\t${level}\t${format(...args)}\n`,
      );
    };
  }
}
