/**
 * What a local Lambda execution environment runs, whichever way it is hosted (a child process,
 * `lambda-host.ts`, a worker thread, `lambda-thread-host.ts`, or an instance of the module in a thread
 * shared with other environments, `shared-thread-host.ts`): it loads the handler once, like
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

/** How one environment's runtime talks to its parent. */
export interface EnvironmentChannel {
  /** Posts a message; `transfer` lists buffers moved rather than copied (where the channel can). */
  post(message: ReadyMessage | HostStreamMessage, transfer?: ArrayBuffer[]): void;
  /** Sends an invocation's result once its output is known to have reached the parent. */
  sendResult(message: ResultMessage, transfer?: ArrayBuffer[]): Promise<void>;
  /** An invocation starts (the process host resets what it knows of its output). */
  invocationStarts?(): void;
  /** The environment's memory in MB, for the REPORT line. */
  memoryMB(): number;
}

/** How a host of one environment talks to its parent. */
export interface HostChannel extends EnvironmentChannel {
  /** Calls `listener` with each message of the parent. */
  onMessage(listener: (message: ParentMessage) => void): void;
  /** What keeps the host alive between invocations: the loop may empty during one. */
  keepAlive?: { ref(): void; unref(): void };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Runs the environment of a host of its own (a process or a thread): init now, then the invocations the
 * parent sends, one at a time. An error thrown outside any handler's promise ends it.
 */
export function runHost(channel: HostChannel, handlerFile: string, exportPath: string): void {
  const loop = channel.keepAlive ? new EventLoopWatch(channel.keepAlive) : undefined;
  // Not yet there while the module loads (its init), whose output has no request id.
  const started: { runtime?: EnvironmentRuntime } = {};
  patchConsole(() => started.runtime?.current);
  const runtime = new EnvironmentRuntime(channel, process.env, loadHandler(handlerFile, exportPath), loop);
  started.runtime = runtime;
  channel.onMessage((message) => runtime.receive(message));
  process.on("uncaughtException", (error) => fatal(handlerError(error)));
  process.on("unhandledRejection", (reason) => fatal(unhandledRejectionError(reason)));

  /** An error outside any handler's promise: Lambda fails the invocation and resets the environment. */
  function fatal(error: LambdaError): void {
    const sent = runtime.fail(error);
    if (!sent) {
      process.stderr.write(`${error.errorType}: ${error.errorMessage}\n`);
      process.exit(1);
    }
    void sent.finally(() => process.exit(1));
  }
}

/**
 * One environment's runtime, whatever hosts it: the handler loaded once (Lambda's init), then one
 * invocation at a time as the parent asks. The parent owns the deadline: it ends the environment when an
 * invocation times out. `env` is the environment's variables, which its context is built from.
 */
export class EnvironmentRuntime {
  /** The request id of the invocation running, if any. */
  current: string | undefined;
  private readonly queue: InvokeMessage[] = [];
  private running = false;
  /** The streamed invocation running, if any: the parent's acknowledgements and cancel go to it. */
  private streaming: { requestId: string; sink: ChannelSink; abort: AbortController } | undefined;

  constructor(
    private readonly channel: EnvironmentChannel,
    private readonly env: NodeJS.ProcessEnv,
    private readonly loaded: Promise<LambdaHandler | LambdaError>,
    private readonly loop?: EventLoopWatch,
  ) {
    // The parent starts an invocation's clock only after init, as Lambda does.
    void loaded.then(() => channel.post({ type: "ready" }));
  }

  /** A message of the parent. */
  receive(message: ParentMessage): void {
    if (message?.type === "stream-ack" || message?.type === "stream-cancel") {
      const streaming = this.streaming;
      if (streaming?.requestId !== message.requestId) return;
      if (message.type === "stream-ack") streaming.sink.ack(message.bytes);
      else streaming.abort.abort();
      return;
    }
    if (message?.type !== "invoke") return;
    this.queue.push(message);
    if (!this.running) void this.drain();
  }

  /**
   * Fails the invocation running with `error` (an error outside its promise), telling the parent the
   * environment is ending. Resolves once sent; undefined when none runs.
   */
  fail(error: LambdaError): Promise<void> | undefined {
    const requestId = this.current;
    if (requestId === undefined) return undefined;
    this.current = undefined;
    return this.channel.sendResult({ type: "result", requestId, ok: false, error, fatal: true });
  }

  private async drain(): Promise<void> {
    this.running = true;
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      const handler = await this.loaded;
      this.current = next.requestId;
      this.channel.invocationStarts?.();
      const result: ResultMessage =
        typeof handler === "function"
          ? await this.invoke(handler, next)
          : { type: "result", requestId: next.requestId, ok: false, error: handler };
      // A fatal error meanwhile has answered it already.
      if (this.current !== next.requestId) continue;
      this.current = undefined;
      const transfer = result.ok && "payload" in result ? [result.payload.buffer as ArrayBuffer] : [];
      await this.channel.sendResult({ ...result, memoryMB: this.channel.memoryMB() }, transfer);
    }
    this.running = false;
  }

  private async invoke(handler: LambdaHandler, message: InvokeMessage): Promise<ResultMessage> {
    const { requestId } = message;
    let event: unknown;
    try {
      event = JSON.parse(decoder.decode(message.payload));
    } catch (error) {
      return { type: "result", requestId, ok: false, error: handlerError(error) };
    }
    if (isStreamingHandler(handler)) return this.invokeStreaming(handler, event, message);
    this.loop?.start();
    const completion = await invokeHandler(handler, event, this.contextData(message), {
      deadline: message.deadline,
      emptyEventLoop: this.loop?.emptyEventLoop,
    });
    this.loop?.end();
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
  private async invokeStreaming(
    handler: LambdaHandler,
    event: unknown,
    message: InvokeMessage,
  ): Promise<ResultMessage> {
    const { requestId } = message;
    const sink = new ChannelSink((part, transfer) => this.channel.post({ ...part, requestId }, transfer));
    const abort = new AbortController();
    abort.signal.addEventListener("abort", () => sink.cancel(new Error("The caller went away.")));
    this.streaming = { requestId, sink, abort };
    const completion = await invokeStreamingHandler(handler, event, this.contextData(message), {
      deadline: message.deadline,
      sink,
      signal: abort.signal,
    });
    this.streaming = undefined;
    return completion.ok
      ? { type: "result", requestId, ok: true, streamed: true }
      : { type: "result", requestId, ok: false, error: handlerError(completion.error) };
  }

  /** What Lambda's runtime builds the context from: its environment and the invocation's headers. */
  private contextData(message: InvokeMessage): InvocationContext {
    const env = this.env;
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
}

/** Init: loads the module and finds the export; a failure is reported by every invocation. */
export async function loadHandler(
  handlerFile: string,
  exportPath: string,
): Promise<LambdaHandler | LambdaError> {
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
  lambdaConsole(console, current, (stream, text) => process[stream].write(text));
}

/**
 * Makes `target`'s log, info, debug, warn and error write Lambda's records (time, request id, level) to
 * `write`: stdout for the first three, stderr for warn and error. Returns `target`.
 */
export function lambdaConsole<T extends object>(
  target: T,
  current: () => string | undefined,
  write: (stream: "stdout" | "stderr", text: string) => void,
): T {
  const levels = { log: "INFO", info: "INFO", debug: "DEBUG", warn: "WARN", error: "ERROR" } as const;
  for (const [method, level] of Object.entries(levels)) {
    const stream = level === "WARN" || level === "ERROR" ? "stderr" : "stdout";
    (target as Record<string, unknown>)[method] = (...args: unknown[]) => {
      write(
        stream,
        `${new Date().toISOString()}\t${current() ?? "undefined"}\t${level}\t${format(...args)}\n`,
      );
    };
  }
  return target;
}
