import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { MAX_RESPONSE_PAYLOAD_BYTES } from "../../protocol/limits";
import type { InvokeMessage, ReadyMessage, ResultMessage } from "./host-messages";
import type { InvokeResult } from "./invoker";
import { LogLines } from "../runtime/log-lines";
import { type LambdaError, responseTooLargeError } from "../../core/lambda-error";

const MARKER_PREFIX = "\u001fpulumi-live:end:";
const TAIL_BYTES = 4096;
/** How long to wait for the end markers after a result before giving up on late log lines. */
const MARKER_GRACE_MS = 1000;
/** Lambda's limit for the init phase, which does not count against the function's timeout. */
const INIT_TIMEOUT_MS = 10_000;

/** What one environment process needs: its handler and its whole environment. */
export interface EnvironmentProcessOptions {
  name: string;
  handlerFile: string;
  handlerExport: string;
  /** The complete process environment (nothing is inherited). */
  env: Record<string, string>;
  cwd: string;
  timeoutSeconds: number;
  memoryMB: number;
  onLog?: (name: string, line: string) => void;
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
  resolve(result: InvokeResult): void;
}

/**
 * One local Lambda execution environment: a `lambda-host` child process that runs one invocation at a
 * time. It is killed at an invocation's deadline, as Lambda does; a dead environment is never reused.
 */
export class EnvironmentProcess {
  readonly pid: number | undefined;
  private readonly child: ChildProcess;
  private readonly closed: Promise<void>;
  private readonly lines = new LogLines();
  private active: Active | undefined;
  private dead = false;
  private ready = false;
  private onReady: (() => void) | undefined;
  private exitDescription = "exit status 0";

  constructor(private readonly options: EnvironmentProcessOptions) {
    this.child = fork(join(__dirname, "lambda-host.js"), [options.handlerFile, options.handlerExport], {
      env: options.env,
      cwd: options.cwd,
      execArgv: [],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    this.pid = this.child.pid;
    this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => this.output(0, chunk));
    this.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => this.output(1, chunk));
    this.child.on("message", (message: ResultMessage | ReadyMessage) => {
      if (message?.type !== "ready") return this.onResult(message);
      this.ready = true;
      this.onReady?.();
    });
    this.child.on("exit", (code, signal) => {
      this.dead = true;
      this.exitDescription = signal
        ? `signal: ${signal === "SIGKILL" ? "killed" : signal}`
        : `exit status ${code}`;
    });
    this.closed = new Promise((resolve) => {
      const done = (): void => {
        this.dead = true;
        this.onClose();
        resolve();
      };
      this.child.once("close", done);
      // A process that could not start emits "error" and maybe never "close".
      this.child.on("error", (error) => {
        this.log(`${this.options.name}: could not start a local environment: ${error.message}`);
        if (this.child.exitCode === null && this.child.pid === undefined) done();
      });
    });
  }

  /** False once the process has exited or reported a fatal error: the pool then starts another. */
  get alive(): boolean {
    return !this.dead;
  }

  /** Runs one invocation; the caller guarantees only one runs at a time. Never rejects. */
  invoke(payload: string, requestId: string, tail: boolean): Promise<InvokeResult> {
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
      };
      this.active = active;
      if (this.dead) return this.finish();
      const start = (): void => {
        this.onReady = undefined;
        if (this.active !== active) return;
        // The clock starts once init is over, as on Lambda.
        const timeoutMs = this.options.timeoutSeconds * 1000;
        clearTimeout(active.timer);
        active.started = performance.now();
        active.timer = setTimeout(() => this.onTimeout("Task"), timeoutMs);
        const message: InvokeMessage = {
          type: "invoke",
          requestId,
          payload,
          deadline: Date.now() + timeoutMs,
        };
        this.child.send(message, (error) => {
          if (error) this.child.kill("SIGKILL");
        });
      };
      if (this.ready) start();
      else this.onReady = start;
    });
  }

  /** Stops the process at once (whatever it runs fails with an exit error) and waits for it. */
  kill(): Promise<void> {
    if (!this.dead) this.child.kill("SIGKILL");
    return this.closed;
  }

  private onResult(message: ResultMessage): void {
    const active = this.active;
    if (message?.type !== "result" || !active || active.requestId !== message.requestId || active.timedOut)
      return;
    active.result = message;
    if (message.fatal) this.dead = true;
    if (message.quiet || active.markers >= 2) return this.finish();
    active.graceTimer = setTimeout(() => this.finish(), MARKER_GRACE_MS);
  }

  private onTimeout(what: "Init" | "Task"): void {
    const active = this.active;
    if (!active || active.result) return;
    active.timedOut = what;
    this.append(`${new Date().toISOString()} ${active.requestId} ${this.timeoutText(what)}`);
    // Lambda freezes and discards a timed-out environment; the next invocation gets a fresh one.
    this.child.kill("SIGKILL");
  }

  private onClose(): void {
    for (const { line } of this.lines.flush()) this.line(line);
    if (this.active) this.finish();
  }

  /** Splits output into lines (linear, each line capped), routes them and counts end markers. */
  private output(stream: number, chunk: string): void {
    for (const line of this.lines.push(stream === 0 ? "stdout" : "stderr", chunk)) this.line(line);
  }

  private line(line: string): void {
    const at = line.indexOf(MARKER_PREFIX);
    if (at < 0) return this.log(line);
    if (at > 0) this.log(line.slice(0, at));
    const active = this.active;
    if (active && ++active.markers >= 2 && active.result) this.finish();
  }

  private log(line: string): void {
    this.append(line);
    this.options.onLog?.(this.options.name, line);
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
      error = {
        errorType: "Runtime.ExitError",
        errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${this.exitDescription}`,
        trace: [],
      };
    } else if (!result.ok) {
      error = result.error;
    } else {
      payload = Buffer.from(result.payload);
      if (payload.length > MAX_RESPONSE_PAYLOAD_BYTES) error = responseTooLargeError(payload.length);
    }
    const out: InvokeResult = {
      payload: error ? Buffer.from(JSON.stringify(error)) : (payload as Buffer),
      requestId,
      durationMs,
    };
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
