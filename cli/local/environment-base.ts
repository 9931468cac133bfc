import { performance } from "node:perf_hooks";
import { MAX_RESPONSE_PAYLOAD_BYTES } from "../../protocol/limits";
import type { HostMessage, HostStreamMessage, ParentMessage, ResultMessage } from "./host-messages";
import type { InvokeResult } from "./invoker";
import { LogLines } from "../runtime/log-lines";
import { type LambdaError, outOfMemoryError, responseTooLargeError } from "../../core/lambda-error";
import type { StreamConsumer } from "../../core/stream-channel";
import type { InProcessBroker } from "./thread-broker-link";

const MARKER_PREFIX = "\u001fpulumi-live:end:";
const TAIL_BYTES = 4096;
/** How long to wait for the end markers after a result before giving up on late log lines. */
const MARKER_GRACE_MS = 1000;
/** Lambda's limit for the init phase, which does not count against the function's timeout. */
const INIT_TIMEOUT_MS = 10_000;

/** What one environment needs: its handler and its whole environment. */
export interface EnvironmentOptions {
  name: string;
  handlerFile: string;
  handlerExport: string;
  /** The complete process environment (nothing is inherited). */
  env: Record<string, string>;
  cwd: string;
  timeoutSeconds: number;
  memoryMB: number;
  onLog?: (name: string, line: string) => void;
  /** serve's embedded broker: a thread's stub reaches it over the thread's port (a process's cannot). */
  broker?: InProcessBroker;
}

/** One local Lambda execution environment, however it is hosted: what `LocalFunction` drives. */
export interface LocalEnvironment {
  /** False once it has ended or reported a fatal error: the pool then starts another. */
  readonly alive: boolean;
  /** Runs one invocation; the caller guarantees only one runs at a time. Never rejects. */
  invoke(payload: Buffer, requestId: string, tail: boolean, stream?: StreamConsumer): Promise<InvokeResult>;
  /** Ends it at once (whatever it runs fails with an exit error) and waits for it. Idempotent. */
  kill(): Promise<void>;
}

interface Active {
  requestId: string;
  started: number;
  log: string;
  markers: number;
  result?: ResultMessage;
  /** What timed out, when something did. */
  timedOut?: "Init" | "Task";
  timer: NodeJS.Timeout;
  graceTimer?: NodeJS.Timeout;
  tail: boolean;
  /** Where a streaming handler's bytes go. */
  stream?: StreamConsumer;
  resolve(result: InvokeResult): void;
}

const encoder = new TextEncoder();

/**
 * What a process and a thread environment share: one invocation at a time, the init and task clocks,
 * the output split into lines for the log tail, and the result in the Invoke API's shape. Each kind
 * says how to send to its host and how to end it; it feeds back what the host sends and how it ended.
 */
export abstract class EnvironmentBase implements LocalEnvironment {
  protected dead = false;
  /** How the host ended, for Runtime.ExitError (`exit status 3`, `signal: killed`). */
  protected exitDescription = "exit status 0";
  /** The host ran out of the memory it was given (a thread's resource limit). */
  protected outOfMemory = false;
  private readonly lines = new LogLines();
  private active: Active | undefined;
  private ready = false;
  private onReady: (() => void) | undefined;

  constructor(protected readonly options: EnvironmentOptions) {}

  get alive(): boolean {
    return !this.dead;
  }

  abstract kill(): Promise<void>;

  /** Sends a message to the host; `transfer` lists buffers that may be moved instead of copied. */
  protected abstract send(message: ParentMessage, transfer?: ArrayBuffer[]): void;

  /** Ends the host at once (a timeout): it then reports its end through {@link ended}. */
  protected abstract stop(): void;

  invoke(payload: Buffer, requestId: string, tail: boolean, stream?: StreamConsumer): Promise<InvokeResult> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.onTimeout("Init"), INIT_TIMEOUT_MS);
      const active: Active = {
        requestId,
        started: performance.now(),
        log: "",
        markers: 0,
        timer,
        tail,
        resolve,
        ...(stream ? { stream } : {}),
      };
      this.active = active;
      stream?.signal?.addEventListener(
        "abort",
        () => {
          if (this.active === active) this.control({ type: "stream-cancel", requestId });
        },
        { once: true },
      );
      if (this.dead) return this.finish();
      // Lambda passes `{}` to a handler invoked without a payload. A copy of its own, so that it can be
      // moved: the request's Buffer may be a view into a larger pooled one.
      const bytes = payload.length === 0 ? encoder.encode("{}") : new Uint8Array(payload);
      const start = (): void => {
        this.onReady = undefined;
        if (this.active !== active) return;
        // The clock starts once init is over, as on Lambda.
        const timeoutMs = this.options.timeoutSeconds * 1000;
        clearTimeout(active.timer);
        active.started = performance.now();
        active.timer = setTimeout(() => this.onTimeout("Task"), timeoutMs);
        const deadline = Date.now() + timeoutMs;
        this.send({ type: "invoke", requestId, payload: bytes, deadline }, [bytes.buffer]);
      };
      if (this.ready) start();
      else this.onReady = start;
    });
  }

  /** What the host sent. */
  protected received(message: HostMessage): void {
    switch (message?.type) {
      case "ready":
        this.ready = true;
        return this.onReady?.();
      case "log":
        return this.output(message.stream, message.text);
      case "stream-start":
      case "stream-chunk":
        return this.onStream(message);
      case "result":
        return this.onResult(message);
    }
  }

  /** Output of the host, as it comes. */
  protected output(stream: "stdout" | "stderr", chunk: string): void {
    for (const line of this.lines.push(stream, chunk)) this.line(line);
  }

  /** The host has ended and nothing more will come from it. */
  protected ended(): void {
    this.dead = true;
    for (const { line } of this.lines.flush()) this.line(line);
    if (this.active) this.finish();
  }

  /** A line of serve's own about this environment (it could not start, it failed). */
  protected log(line: string): void {
    this.append(line);
    this.options.onLog?.(this.options.name, line);
  }

  private onResult(message: ResultMessage): void {
    const active = this.active;
    if (!active || active.requestId !== message.requestId || active.timedOut) return;
    active.result = message;
    if (message.fatal) this.dead = true;
    if (message.quiet || active.markers >= 2) return this.finish();
    active.graceTimer = setTimeout(() => this.finish(), MARKER_GRACE_MS);
  }

  /** A streaming handler's start or bytes: handed on; the host hears they were taken once they were. */
  private onStream(message: HostStreamMessage): void {
    const active = this.active;
    if (!active || active.requestId !== message.requestId || active.timedOut || !active.stream) return;
    if (message.type === "stream-start") return active.stream.start(message.contentType);
    const { data } = message;
    const bytes = data.byteLength;
    active.stream.write(Buffer.from(data.buffer, data.byteOffset, bytes)).then(
      () => {
        if (this.active === active) this.control({ type: "stream-ack", requestId: active.requestId, bytes });
      },
      () => {
        if (this.active === active) this.control({ type: "stream-cancel", requestId: active.requestId });
      },
    );
  }

  private control(message: ParentMessage): void {
    if (!this.dead) this.send(message);
  }

  private onTimeout(what: "Init" | "Task"): void {
    const active = this.active;
    if (!active || active.result) return;
    active.timedOut = what;
    this.append(`${new Date().toISOString()} ${active.requestId} ${this.timeoutText(what)}`);
    // Lambda freezes and discards a timed-out environment; the next invocation gets a fresh one.
    this.dead = true;
    this.stop();
  }

  /** Routes a line; the process host's end markers are counted, not logged. */
  private line(line: string): void {
    const at = line.indexOf(MARKER_PREFIX);
    if (at < 0) return this.log(line);
    if (at > 0) this.log(line.slice(0, at));
    const active = this.active;
    if (active && ++active.markers >= 2 && active.result) this.finish();
  }

  private append(line: string): void {
    const active = this.active;
    if (!active) return;
    active.log += `${line}\n`;
    // Only the tail is ever reported: keep memory bounded for chatty handlers.
    if (active.log.length > 64 * 1024) active.log = active.log.slice(-16 * 1024);
  }

  private finish(): void {
    const active = this.active;
    if (!active) return;
    this.active = undefined;
    clearTimeout(active.timer);
    clearTimeout(active.graceTimer);
    const { requestId } = active;
    const durationMs = performance.now() - active.started;
    let error: LambdaError | undefined;
    let payload: Buffer | undefined;
    const result = active.result;
    if (active.timedOut) {
      const errorMessage = `RequestId: ${requestId} Error: ${this.timeoutText(active.timedOut)}`;
      error = { errorType: "Sandbox.Timedout", errorMessage, trace: [] };
    } else if (!result) {
      error = this.outOfMemory
        ? outOfMemoryError(requestId)
        : {
            errorType: "Runtime.ExitError",
            errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${this.exitDescription}`,
            trace: [],
          };
    } else if (!result.ok) {
      error = result.error;
    } else if ("streamed" in result) {
      payload = Buffer.alloc(0);
    } else {
      const bytes = result.payload;
      payload = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (payload.length > MAX_RESPONSE_PAYLOAD_BYTES) error = responseTooLargeError(payload.length);
    }
    const out: InvokeResult = {
      payload: error ? Buffer.from(JSON.stringify(error)) : (payload as Buffer),
      requestId,
      durationMs,
    };
    if (result?.ok && "streamed" in result) out.streamed = true;
    if (error) out.functionError = "Unhandled";
    if (active.tail) out.logTail = this.tail(active, durationMs, result?.memoryMB);
    active.resolve(out);
  }

  private timeoutText(what: "Init" | "Task"): string {
    const seconds = what === "Init" ? INIT_TIMEOUT_MS / 1000 : this.options.timeoutSeconds;
    return `${what} timed out after ${seconds.toFixed(2)} seconds`;
  }

  /** Lambda's log tail: START, the invocation's lines, END, REPORT; the last 4 KB of it. */
  private tail(active: Active, durationMs: number, memoryMB: number | undefined): string {
    const id = active.requestId;
    const report =
      `REPORT RequestId: ${id}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.ceil(durationMs)} ms\t` +
      `Memory Size: ${this.options.memoryMB} MB\tMax Memory Used: ${memoryMB ?? 0} MB\t\n`;
    const text = `START RequestId: ${id} Version: $LATEST\n${active.log}END RequestId: ${id}\n${report}`;
    const bytes = Buffer.from(text);
    return bytes.length <= TAIL_BYTES ? text : bytes.subarray(bytes.length - TAIL_BYTES).toString("utf8");
  }
}
