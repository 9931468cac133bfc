import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { EnvironmentBase, type EnvironmentOptions } from "./environment-base";
import type { HostMessage, ParentMessage } from "./host-messages";

/**
 * One local Lambda execution environment as a `lambda-host` child process: for a function whose
 * environment Node reads only when a process starts (see `environment-kind.ts`). It is killed at an
 * invocation's deadline, as Lambda does; a dead environment is never reused.
 */
export class EnvironmentProcess extends EnvironmentBase {
  readonly pid: number | undefined;
  private readonly child: ChildProcess;
  private readonly closed: Promise<void>;

  constructor(options: EnvironmentOptions) {
    super(options);
    this.child = fork(join(__dirname, "lambda-host.js"), [options.handlerFile, options.handlerExport], {
      env: options.env,
      cwd: options.cwd,
      execArgv: [],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      // Structured clone: the event, results and streamed chunks cross as bytes, not JSON arrays.
      serialization: "advanced",
    });
    this.pid = this.child.pid;
    this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => this.output("stdout", chunk));
    this.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => this.output("stderr", chunk));
    this.child.on("message", (message: HostMessage) => this.received(message));
    this.child.on("exit", (code, signal) => {
      this.dead = true;
      this.exitDescription = signal
        ? `signal: ${signal === "SIGKILL" ? "killed" : signal}`
        : `exit status ${code}`;
    });
    this.closed = new Promise((resolve) => {
      const done = (): void => {
        this.ended();
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

  kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    return this.closed;
  }

  protected send(message: ParentMessage): void {
    if (!this.child.connected) return;
    this.child.send(message, (error) => {
      if (!error) return;
      this.log(`${this.options.name}: could not reach its environment: ${error.message}`);
      if (message.type === "invoke") this.child.kill("SIGKILL");
    });
  }

  protected stop(): void {
    this.child.kill("SIGKILL");
  }
}
