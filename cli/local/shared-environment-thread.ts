import type { Worker } from "node:worker_threads";
import { EnvironmentBase, type EnvironmentOptions } from "./environment-base";
import { environmentWorker } from "./environment-thread";
import type { HostMessage, ParentMessage } from "./host-messages";
import type { InvokeResult } from "./invoker";
import type { SharedHostMessage, SharedParentMessage } from "./shared-thread-messages";
import { acceptBrokerLink, isBrokerLink, type InProcessBroker } from "./thread-broker-link";
import { LogLines } from "../runtime/log-lines";
import type { StreamConsumer } from "../../core/stream-channel";

/**
 * Young generation of a shared thread, in MB: 16 and 32 made no difference to the gateway's throughput
 * (`npm run bench -- --only serve --rebuilds 100`, two runs each), and a smaller one holds less memory.
 */
const YOUNG_GENERATION_MB = 8;

export interface SharedThreadOptions {
  /** The function's name. */
  name: string;
  /** A CommonJS module: the stub bundle. */
  handlerFile: string;
  handlerExport: string;
  /** The thread's `process.env`: the function's variables (each environment brings its own as well). */
  env: Record<string, string>;
  /** Environments it hosts at most. */
  capacity: number;
  /** The function's memory size: the thread's heap may hold this much for each of its environments. */
  memoryMB: number;
  broker?: InProcessBroker;
  onLog?: (name: string, line: string) => void;
}

/**
 * A worker thread of serve hosting several local execution environments of one function, each an
 * instance of its own of the stub bundle (`shared-thread-host.ts`): one isolate whose code is compiled
 * once and kept warm by all of their invocations, instead of one per environment. Lambda's rules hold
 * for each environment as for a thread of its own: one invocation at a time, its own module state and
 * variables, discarded at its invocation's deadline. A discarded environment's code cannot be stopped
 * alone, so its thread then takes no more environments, ends its idle ones (Lambda may replace a warm
 * environment with a cold one at any time), and ends itself once the busy ones have answered.
 */
export class SharedEnvironmentThread {
  private readonly worker: Worker;
  private readonly members = new Map<number, SharedThreadEnvironment>();
  private readonly lines = new LogLines();
  private nextId = 1;
  private draining = false;
  private exited = false;
  /** Settles when the thread has exited. */
  readonly closed: Promise<void>;

  constructor(private readonly options: SharedThreadOptions) {
    this.worker = environmentWorker("shared-thread-host.js", {
      ...options,
      name: `${options.name} environments`,
      heapMB: options.memoryMB * options.capacity,
      youngMB: YOUNG_GENERATION_MB,
      output: (stream, chunk) => this.output(stream, chunk),
    });
    this.worker.on("message", (message: SharedHostMessage) => {
      if (isBrokerLink(message)) acceptBrokerLink(message, options.broker);
      else if (message.type === "output") this.output(message.stream, message.text);
      else this.members.get(message.id)?.deliver(message.message);
    });
    this.worker.on("error", (error: Error & { code?: unknown }) => {
      const outOfMemory = error.code === "ERR_WORKER_OUT_OF_MEMORY";
      for (const member of this.members.values()) member.failed(outOfMemory);
      if (!outOfMemory) this.log(`its local environments failed: ${error.stack ?? error.message}`);
    });
    this.closed = new Promise((resolve) => {
      this.worker.once("exit", (code) => {
        this.exited = true;
        const members = [...this.members.values()];
        this.members.clear();
        for (const member of members) member.threadExited(`exit status ${code}`);
        for (const { line } of this.lines.flush()) this.options.onLog?.(this.options.name, line);
        resolve();
      });
    });
  }

  /** Whether it takes another environment: it is not ending and has room. */
  get accepting(): boolean {
    return !this.draining && !this.exited && this.members.size < this.options.capacity;
  }

  /** Whether it is ending: its environments are then not reused. */
  get ending(): boolean {
    return this.draining || this.exited;
  }

  /** A new environment in this thread, its init started at once. */
  open(options: EnvironmentOptions): SharedThreadEnvironment {
    const id = this.nextId++;
    const environment = new SharedThreadEnvironment(options, this, id);
    this.members.set(id, environment);
    this.post({ type: "open", id, env: options.env });
    return environment;
  }

  send(id: number, message: ParentMessage, transfer?: ArrayBuffer[]): void {
    this.post({ type: "to", id, message }, transfer);
  }

  /**
   * Ends one environment. The thread then ends too once nothing else runs in it; resolves when the
   * environment is gone (and, when it was the last, the thread with it).
   */
  discard(id: number): Promise<void> {
    if (this.members.delete(id)) this.post({ type: "discard", id });
    this.drain();
    if (this.members.size > 0) return Promise.resolve();
    if (!this.exited) void this.worker.terminate();
    return this.closed;
  }

  /** Ends the thread and every environment in it. */
  terminate(): Promise<void> {
    this.draining = true;
    if (!this.exited) void this.worker.terminate();
    return this.closed;
  }

  /**
   * Takes no more environments and ends those not running an invocation. Not at once: one that was
   * handed out (its `alive` was true) in this same turn is about to start its invocation, and must.
   */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => {
      for (const member of [...this.members.values()]) if (!member.busy) void member.kill();
    });
  }

  private post(message: SharedParentMessage, transfer?: ArrayBuffer[]): void {
    if (!this.exited) this.worker.postMessage(message, transfer);
  }

  /** Output not from an environment's console (the thread's own writes): serve's log. */
  private output(stream: "stdout" | "stderr", chunk: string): void {
    for (const line of this.lines.push(stream, chunk)) this.options.onLog?.(this.options.name, line);
  }

  private log(line: string): void {
    this.options.onLog?.(this.options.name, `${this.options.name}: ${line}`);
  }
}

/** One local execution environment in a {@link SharedEnvironmentThread}. */
export class SharedThreadEnvironment extends EnvironmentBase {
  /** An invocation is running. */
  busy = false;
  private discarded: Promise<void> | undefined;

  constructor(
    options: EnvironmentOptions,
    private readonly thread: SharedEnvironmentThread,
    private readonly id: number,
  ) {
    super(options);
  }

  /** Not reused once its thread is ending. */
  override get alive(): boolean {
    return !this.dead && !this.thread.ending;
  }

  override async invoke(
    payload: Buffer,
    requestId: string,
    tail: boolean,
    stream?: StreamConsumer,
  ): Promise<InvokeResult> {
    this.busy = true;
    try {
      return await super.invoke(payload, requestId, tail, stream);
    } finally {
      this.busy = false;
    }
  }

  kill(): Promise<void> {
    if (this.discarded) return this.discarded;
    this.dead = true;
    // What an invocation it ran fails with, as for a runtime killed on Lambda (a timeout says its own).
    this.exitDescription = "signal: killed";
    this.discarded = this.thread.discard(this.id);
    this.ended();
    return this.discarded;
  }

  /** What its instance in the thread sent. */
  deliver(message: HostMessage): void {
    this.received(message);
  }

  /** The thread ran out of memory (every environment in it did), or failed otherwise. */
  failed(outOfMemory: boolean): void {
    if (outOfMemory) this.outOfMemory = true;
  }

  /** The thread has exited: whatever this environment ran fails with how it ended. */
  threadExited(description: string): void {
    this.exitDescription = description;
    this.discarded ??= Promise.resolve();
    this.ended();
  }

  protected send(message: ParentMessage, transfer?: ArrayBuffer[]): void {
    this.thread.send(this.id, message, transfer);
  }

  /** Its invocation timed out: discarded at once, as Lambda discards a timed-out environment. */
  protected stop(): void {
    void this.kill();
  }
}
