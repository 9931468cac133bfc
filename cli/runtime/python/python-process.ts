/**
 * One Python process serving one remote execution environment, driven like a worker thread: the worker
 * pool posts `invoke` messages and hears `log`/`result`/`error`/`fatal` back, `error` and `exit` events,
 * and ends it with `terminate()`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { exitError, type LambdaError } from "../../../core/lambda-error";
import type { InvokeMessage, WorkerMessage } from "../worker-messages";
import { NdjsonReader } from "./ndjson";

/** The runtime script, copied next to this file by the build. */
export const BOOTSTRAP = path.join(__dirname, "bootstrap.py");

/** How a Python function's process starts. */
export interface PythonLaunch {
  /** The interpreter to run (a virtualenv's `python`, or `python3`). */
  interpreter: string;
  /** The function's code folder: working folder and first `sys.path` entry. */
  codeRoot: string;
  /** `app.handler`, the module relative to the code root and the function, as Lambda names it. */
  handler: string;
  /** The Lambda runtime it stands for (`python3.12`): `AWS_EXECUTION_ENV` names it. */
  runtime: string;
  /** Listen for a debugpy client from this port on (the first free one). */
  debug?: { host: string; port: number };
  /** Told where a process's debugger listens, or why it cannot. */
  onDebugger?: (event: { host?: string; port?: number; error?: string }) => void;
}

/** Messages of the Python runtime that stay between it and this wrapper. */
interface DebuggerMessage {
  type: "debugger";
  host?: string;
  port?: number;
  error?: string;
}

/** How often the resident memory of a busy process is compared with the function's memory size. */
const MEMORY_SAMPLE_MS = 100;

/** After the process exits, how long its answers may take to drain (a forked child may hold the pipe). */
const DRAIN_MS = 200;

/** Go's names of signals, as Lambda's "Runtime exited with error: signal: killed" spells them. */
const SIGNAL_NAMES: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: "killed",
  SIGTERM: "terminated",
  SIGSEGV: "segmentation fault",
  SIGABRT: "aborted",
  SIGBUS: "bus error",
  SIGILL: "illegal instruction",
  SIGFPE: "floating point exception",
};

/** Lambda's error when a function uses more memory than its memory size. */
export function outOfMemoryError(requestId: string): LambdaError {
  return {
    errorType: "Runtime.OutOfMemory",
    errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed`,
    trace: [],
  };
}

/** The resident memory of a process in bytes (Linux `/proc`); undefined where it cannot be read. */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export class PythonProcess extends EventEmitter {
  readonly stdout: Readable;
  readonly stderr: Readable;
  private readonly child: ChildProcess;
  private readonly commands: Writable;
  private readonly launch: PythonLaunch;
  /** The invocation under way: its request id and memory size. */
  private busy?: { requestId: string; memoryBytes: number };
  private sampler?: NodeJS.Timeout;
  private terminating = false;
  private exited?: Promise<number>;
  private exitCode?: number;

  constructor(launch: PythonLaunch, env: Record<string, string>) {
    super();
    this.launch = launch;
    const config = JSON.stringify({ root: launch.codeRoot, handler: launch.handler, debug: launch.debug });
    const args = [...(launch.debug ? ["-X", "frozen_modules=off"] : []), BOOTSTRAP, config];
    this.child = spawn(launch.interpreter, args, {
      cwd: launch.codeRoot,
      env: {
        ...env,
        // What Lambda's Python runtime has (while live, the function's own variables are the Node.js stub's).
        AWS_EXECUTION_ENV: `AWS_Lambda_${launch.runtime}`,
        LAMBDA_TASK_ROOT: launch.codeRoot,
        _HANDLER: launch.handler,
        ...(launch.debug ? { PYDEVD_DISABLE_FILE_VALIDATION: "1" } : {}),
      },
      // stdin: none, as in Lambda; fd 3 carries invocations in, fd 4 the answers out.
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
    });
    this.stdout = this.child.stdout!;
    this.stderr = this.child.stderr!;
    this.commands = this.child.stdio[3] as Writable;
    const answers = this.child.stdio[4] as Readable;
    // A write after the process died fails here; its exit is reported on its own.
    this.commands.on("error", () => undefined);
    const reader = new NdjsonReader((line) => this.onLine(line));
    answers.on("data", (chunk: Buffer) => reader.push(chunk));
    const drained = new Promise<void>((resolve) => answers.once("close", resolve));
    this.exited = new Promise<number>((resolve) => {
      this.child.once("error", (error: NodeJS.ErrnoException) => {
        // Spawning failed (no such interpreter): there will be no exit event.
        if (this.child.pid === undefined) {
          this.emit("error", spawnError(launch.interpreter, error));
          resolve(this.finish(127));
        }
      });
      this.child.once("exit", (code, signal) => {
        if (signal && !this.terminating && this.busy) {
          const name = SIGNAL_NAMES[signal] ?? signal;
          const reason = `Runtime exited with error: signal: ${name}`;
          this.emit("error", exitError(this.busy.requestId, reason));
        }
        let timer: NodeJS.Timeout | undefined;
        void Promise.race([drained, new Promise((r) => (timer = setTimeout(r, DRAIN_MS)))]).then(() => {
          clearTimeout(timer);
          resolve(this.finish(code ?? 1));
        });
      });
    });
  }

  /** Starts an invocation: the process runs one at a time. */
  postMessage(message: InvokeMessage): void {
    const memoryMB = Number(message.context.memoryLimitInMB);
    this.busy = {
      requestId: message.context.awsRequestId,
      memoryBytes: Number.isFinite(memoryMB) && memoryMB > 0 ? memoryMB * 1024 * 1024 : Infinity,
    };
    this.commands.write(JSON.stringify(message) + "\n");
    if (this.busy.memoryBytes !== Infinity && this.child.pid !== undefined) {
      clearInterval(this.sampler);
      this.sampler = setInterval(() => this.checkMemory(), MEMORY_SAMPLE_MS);
    }
  }

  /** Kills the process; resolves with its exit code once it is gone. Idempotent. */
  terminate(): Promise<number> {
    if (this.exitCode === undefined) {
      this.terminating = true;
      this.child.kill("SIGKILL");
    }
    return this.exited ?? Promise.resolve(this.exitCode ?? 0);
  }

  private onLine(line: string): void {
    let message: WorkerMessage | DebuggerMessage;
    try {
      message = JSON.parse(line) as WorkerMessage | DebuggerMessage;
    } catch {
      this.emit("message", { type: "log", stream: "stderr", text: `${line}\n` } satisfies WorkerMessage);
      return;
    }
    if (message.type === "debugger") {
      const { host, port, error } = message;
      this.launch.onDebugger?.({ host, port, error });
      return;
    }
    if (message.type !== "log") {
      // A result that came in over the memory size: Lambda would have ended the process first.
      if (this.busy && message.type === "result" && this.checkMemory()) return;
      this.idle();
    }
    this.emit("message", message);
  }

  /** Kills the process when it uses more than the function's memory; whether it did. */
  private checkMemory(): boolean {
    const busy = this.busy;
    const pid = this.child.pid;
    if (!busy || pid === undefined || this.terminating) return false;
    const used = residentBytes(pid);
    if (used === undefined || used <= busy.memoryBytes) return false;
    // Reported as the process's crash: the pool fails the invocation with it when the process exits.
    this.terminating = true;
    this.idle();
    this.emit("error", outOfMemoryError(busy.requestId));
    this.child.kill("SIGKILL");
    return true;
  }

  private idle(): void {
    this.busy = undefined;
    clearInterval(this.sampler);
    this.sampler = undefined;
  }

  private finish(code: number): number {
    this.idle();
    if (this.exitCode === undefined) {
      this.exitCode = code;
      this.emit("exit", code);
    }
    return code;
  }
}

function spawnError(interpreter: string, error: NodeJS.ErrnoException): LambdaError {
  const message =
    error.code === "ENOENT"
      ? `The Python interpreter ${interpreter} was not found. Install Python 3, create the project's .venv, or pass --python PATH.`
      : `The Python interpreter ${interpreter} could not start: ${error.message}`;
  return { errorType: "Runtime.InvalidEntrypoint", errorMessage: message, trace: [] };
}
