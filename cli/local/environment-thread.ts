import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { EnvironmentBase, type EnvironmentOptions } from "./environment-base";
import type { HostMessage, ParentMessage } from "./host-messages";
import {
  acceptBrokerLink,
  isBrokerLink,
  type BrokerLinkMessage,
  type InProcessBroker,
} from "./thread-broker-link";

/**
 * Young generation of an environment thread, in MB. Kept small: when these threads ran serve's stubs, V8's
 * default let each long-lived environment grow it to 2 x 16 MB in a burst and keep it for a while (README,
 * "Memory"; measured with `npm run bench -- --only serve`).
 */
const YOUNG_GENERATION_MB = 6;

/** What {@link environmentWorker} starts. */
export interface EnvironmentWorkerOptions {
  handlerFile: string;
  handlerExport: string;
  /** The thread's whole `process.env`. */
  env: Record<string, string>;
  /** serve's embedded broker, reached over the thread's port. */
  broker?: InProcessBroker;
  /** The thread's name. */
  name: string;
  /** Its V8 heap's limits, in MB. */
  heapMB: number;
  youngMB: number;
  /** Where what its stdout and stderr catch goes. */
  output: (stream: "stdout" | "stderr", chunk: string) => void;
}

/**
 * A worker thread of serve running a local environment host (`script`, beside this file) for
 * `handlerFile`'s `handlerExport`: argv `<handlerFile> <handlerExport>`, and workerData `{ brokerLink }`
 * when there is an embedded broker to reach over the thread's port.
 */
export function environmentWorker(script: string, options: EnvironmentWorkerOptions): Worker {
  const worker = new Worker(join(__dirname, script), {
    argv: [options.handlerFile, options.handlerExport],
    // The stub then reaches the embedded broker over this thread's port, not a loopback WebSocket.
    workerData: { brokerLink: options.broker !== undefined },
    // A copy of its own: what the environment sets is seen by nobody else, serve included.
    env: options.env,
    execArgv: [],
    // Output is sent over the port in order with the results; these catch anything that is not.
    stdout: true,
    stderr: true,
    name: options.name,
    resourceLimits: { maxOldGenerationSizeMb: options.heapMB, maxYoungGenerationSizeMb: options.youngMB },
  });
  worker.stdout.setEncoding("utf8").on("data", (chunk: string) => options.output("stdout", chunk));
  worker.stderr.setEncoding("utf8").on("data", (chunk: string) => options.output("stderr", chunk));
  return worker;
}

/**
 * One local Lambda execution environment as a worker thread of serve's process, running
 * `lambda-thread-host`: its own `process.env`, module cache and heap (bounded by the function's memory
 * size), the handler loaded once (Lambda's init), invocations over its port. (serve's stubs share threads
 * instead: `shared-environment-thread.ts`.) At an invocation's
 * deadline it is terminated, as Lambda discards a timed-out environment; it is never reused after.
 */
export class EnvironmentThread extends EnvironmentBase {
  private readonly worker: Worker;
  private readonly closed: Promise<void>;
  private exited = false;

  constructor(options: EnvironmentOptions) {
    super(options);
    // The function's memory size bounds its JavaScript heap; over it V8 stops the thread and the
    // invocation fails with Runtime.OutOfMemory, as on Lambda. Buffers and native memory are not bounded.
    this.worker = environmentWorker("lambda-thread-host.js", {
      ...options,
      name: `${options.name} environment`,
      heapMB: options.memoryMB,
      youngMB: YOUNG_GENERATION_MB,
      output: (stream, chunk) => this.output(stream, chunk),
    });
    this.worker.on("message", (message: HostMessage | BrokerLinkMessage) => {
      if (isBrokerLink(message)) acceptBrokerLink(message, options.broker);
      else this.received(message);
    });
    this.worker.on("error", (error: Error & { code?: unknown }) => {
      if (error.code === "ERR_WORKER_OUT_OF_MEMORY") this.outOfMemory = true;
      else this.log(`${this.options.name}: its local environment failed: ${error.stack ?? error.message}`);
    });
    this.closed = new Promise((resolve) => {
      this.worker.once("exit", (code) => {
        this.exited = true;
        this.exitDescription = `exit status ${code}`;
        this.ended();
        resolve();
      });
    });
  }

  kill(): Promise<void> {
    if (!this.exited) this.stop();
    return this.closed;
  }

  protected send(message: ParentMessage, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer);
  }

  protected stop(): void {
    this.dead = true;
    // Resolves with the exit, which "exit" reports; an error here has nowhere better to go.
    this.worker.terminate().catch((error: Error) => this.log(`${this.options.name}: ${error.message}`));
  }
}
