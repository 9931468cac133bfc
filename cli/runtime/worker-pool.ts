import { performance } from "node:perf_hooks";
import { MAX_RESPONSE_PAYLOAD_BYTES } from "../../protocol/limits";
import type { GoodBuild } from "./builder";
import type { InvokeOutcome, InvokeRequest, Job, Slot, WorkerPoolOptions } from "./invocation";
import { LogTail } from "./log-lines";
import { memoryLimitMb, spawnHandlerWorker, type WorkerRequest } from "./handler-worker";
import { isPythonBuild } from "./python/python-builder";
import { SpareWorkers } from "./spare-workers";
import { identityOf, newSlot, olderBuild, prewarmPlan } from "./worker-identity";
import type { InvokeMessage, WorkerMessage } from "./worker-messages";
import {
  toLambdaError,
  type LambdaError,
  responseTooLargeError,
  exitError,
  outOfMemoryError,
  SHUTDOWN_REASON,
  throttledError,
  timedOutError,
} from "../../core/lambda-error";

export type { InvokeOutcome, InvokeRequest, LogEvent, WorkerPoolOptions } from "./invocation";

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Lines kept from a worker before its first invocation. */
const MAX_EARLY_LINES = 1000;

/** Runs invocations in worker threads, one per remote execution environment, under a cap. */
export class WorkerPool {
  private readonly options: WorkerPoolOptions;
  private readonly slots = new Set<Slot>();
  /** The worker serving new invocations of each (function, environment). */
  private readonly current = new Map<string, Slot>();
  private readonly queue: Job[] = [];
  private closing?: Promise<void>;
  private dispatching = false;
  private dispatchAgain = false;
  private readonly spares?: SpareWorkers;

  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new Error(`WorkerPool concurrency must be a positive integer, got ${options.concurrency}`);
    }
    this.options = options;
    if (options.spareWorkers && !options.debugging) this.spares = new SpareWorkers();
  }

  /** Runs one invocation; never rejects: every failure is a Lambda-shaped error. */
  invoke(req: InvokeRequest): Promise<InvokeOutcome> {
    return new Promise((resolve) => {
      const job: Job = {
        req,
        key: `${req.functionName}\u0000${req.envId}`,
        identity: identityOf(req),
        resolve,
        receivedAt: Date.now(),
        coldStart: false,
        logs: new LogTail(),
        done: false,
      };
      const id = req.context.awsRequestId;
      if (this.closing) return this.finish(job, exitError(id, SHUTDOWN_REASON));
      if (this.queue.length >= (this.options.maxQueued ?? 1000)) {
        return this.finish(job, throttledError(this.queue.length));
      }
      const budget = req.deadline - job.receivedAt;
      job.timer = setTimeout(() => this.timeout(job, budget), Math.min(Math.max(0, budget), MAX_TIMER_MS));
      this.queue.push(job);
      this.dispatch();
    });
  }

  stats(): { workers: number; busy: number; queued: number } {
    const busy = [...this.slots].filter((slot) => slot.job).length;
    return { workers: this.slots.size, busy, queued: this.queue.length };
  }

  /**
   * A new build of a function was announced: from now on its invocations run it. The warm workers of the
   * function's most recently used environments are replaced at once by workers loading the new build, so
   * the next invocation finds it loaded; the old ones finish what they run and go. An invocation that
   * got the previous build before this one was announced still runs that (on a worker of its own).
   */
  prewarm(functionName: string, build: GoodBuild): void {
    if (this.closing || isPythonBuild(build)) return;
    const { retire, replace } = prewarmPlan(this.current.values(), functionName, build, Date.now());
    for (const old of retire) {
      this.current.delete(old.key);
      old.retiring = true;
      if (!old.job) void this.kill(old);
    }
    // The same environment, memory size and export as the worker each replaces: the identity of that
    // environment's next invocation. (A busy old worker and its successor both count for a while.)
    for (const old of replace) {
      const request: WorkerRequest = { ...old.request, build };
      this.guard(() => {
        const slot = this.spawn(request, old.key, identityOf(request));
        slot.lastUsed = old.lastUsed;
        this.current.set(old.key, slot);
      });
    }
  }

  /** Fails what is waiting or running and terminates every worker. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const slots = [...this.slots];
      const jobs = [...this.queue.splice(0), ...slots.flatMap((slot) => (slot.job ? [slot.job] : []))];
      for (const job of jobs) this.finish(job, exitError(job.req.context.awsRequestId, SHUTDOWN_REASON));
      await Promise.allSettled([...slots.map((slot) => this.kill(slot)), this.spares?.close()]);
    })();
    return this.closing;
  }

  /** Starts every queued job that can start, in arrival order. */
  private dispatch(): void {
    // Finishing a job can ask for a dispatch from inside this loop: run the loop again instead.
    if (this.dispatching) {
      this.dispatchAgain = true;
      return;
    }
    this.dispatching = true;
    try {
      do {
        this.dispatchAgain = false;
        for (let i = 0; i < this.queue.length && !this.closing;) {
          if (this.startOrFail(this.queue[i])) this.queue.splice(i, 1);
          else i++;
        }
      } while (this.dispatchAgain);
    } finally {
      this.dispatching = false;
    }
  }

  /** Whether the job left the queue (started, or finished with an error). */
  private startOrFail(job: Job): boolean {
    if (job.done) return true;
    try {
      return this.tryStart(job);
    } catch (error) {
      // A malformed request must not stall the queue behind it.
      this.finish(job, toLambdaError(error));
      return true;
    }
  }

  private tryStart(job: Job): boolean {
    const { key, identity } = job;
    let slot = this.current.get(key);
    // An invocation of a build older than the worker's (it got its build before a newer one was
    // announced) runs on that build, on a worker of its own that goes after it: the new one stays.
    const stale =
      slot !== undefined && slot.identity !== identity && olderBuild(job.req.build, slot.request.build);
    if (slot && slot.identity !== identity && !stale) {
      // New code or environment: the old worker finishes what it runs, then goes.
      this.current.delete(key);
      slot.retiring = true;
      if (!slot.job) void this.kill(slot);
      slot = undefined;
    }
    if (slot && !stale) {
      if (slot.job) return false; // one invocation at a time per environment, as in Lambda
      this.run(slot, job);
      return true;
    }
    if (this.slots.size >= this.options.concurrency) {
      const idle = [...this.slots]
        .filter((s) => !s.job && !s.retiring)
        .sort((a, b) => a.lastUsed - b.lastUsed);
      // More remote environments than the cap: lend a warm worker of the same code and environment
      // rather than start a cold one per call (at the cap, workers would otherwise churn on every call).
      const twin = stale ? undefined : idle.find((s) => s.identity === identity);
      if (twin) {
        if (this.current.get(twin.key) === twin) this.current.delete(twin.key);
        twin.key = key;
        twin.envId = job.req.envId;
        this.current.set(key, twin);
        this.run(twin, job);
        return true;
      }
      if (!idle[0]) return false;
      void this.kill(idle[0]);
    }
    try {
      slot = this.spawn(job.req, key, identity);
    } catch (error) {
      this.finish(job, toLambdaError(error));
      return true;
    }
    if (stale) slot.retiring = true;
    else this.current.set(key, slot);
    this.run(slot, job);
    return true;
  }

  /** Starts a worker loading the request's build; it runs nothing until an invocation is given to it. */
  private spawn(req: WorkerRequest, key: string, identity: string): Slot {
    const worker = spawnHandlerWorker(req, this.options.localVariables, this.spares);
    const slot = newSlot(req, key, identity, worker);
    this.slots.add(slot);
    worker.on("message", (message: WorkerMessage) => this.guard(() => this.onMessage(slot, message)));
    worker.on("error", (error) => {
      if ((error as { code?: unknown }).code === "ERR_WORKER_OUT_OF_MEMORY") slot.outOfMemory = true;
      else slot.crash ??= toLambdaError(error);
    });
    worker.on("exit", (code: number) => this.guard(() => this.onExit(slot, code)));
    // Output that bypasses the worker's own capture (rare) still lands in the invocation's log.
    worker.stdout.on("data", (chunk: Buffer) => this.output(slot, "stdout", chunk.toString("utf8")));
    worker.stderr.on("data", (chunk: Buffer) => this.output(slot, "stderr", chunk.toString("utf8")));
    return slot;
  }

  private run(slot: Slot, job: Job): void {
    slot.job = job;
    slot.lastRequestId = job.req.context.awsRequestId;
    slot.lastUsed = Date.now();
    job.slot = slot;
    job.coldStart = slot.invocations++ === 0;
    job.startedAt = performance.now();
    // What the handler printed while loading ahead of this invocation belongs to it, as its init's output.
    for (const { stream, line } of slot.early.splice(0)) this.line(slot, stream, line);
    const message: InvokeMessage = {
      type: "invoke",
      event: job.req.event,
      context: job.req.context,
      deadline: job.req.deadline,
    };
    try {
      slot.worker.postMessage(message);
    } catch (error) {
      this.finish(job, toLambdaError(error));
      this.release(slot);
    }
  }

  private onMessage(slot: Slot, message: WorkerMessage): void {
    const job = slot.job;
    if (message.type === "log") return this.output(slot, message.stream, message.text);
    // The load is over: start the next spare now, not while this worker loads on a shared core.
    if (message.type === "loaded") return this.spares?.fill(memoryLimitMb(slot.request));
    if (message.type === "fatal") {
      if (job) this.finish(job, message.error);
      else this.output(slot, "stderr", `${message.error.errorType}: ${message.error.errorMessage}\n`);
      void this.kill(slot);
      this.dispatch();
      return;
    }
    if (!job) return;
    if (message.type === "error") {
      this.finish(job, message.error, message.durationMs);
    } else {
      const size = Buffer.byteLength(message.json, "utf8");
      if (size > MAX_RESPONSE_PAYLOAD_BYTES)
        this.finish(job, responseTooLargeError(size), message.durationMs);
      else this.finish(job, { result: JSON.parse(message.json) as unknown }, message.durationMs);
    }
    this.release(slot);
  }

  private onExit(slot: Slot, code: number): void {
    const job = slot.job;
    if (job) {
      const id = job.req.context.awsRequestId;
      const crash = slot.outOfMemory ? outOfMemoryError(id) : slot.crash;
      this.finish(job, crash ?? exitError(id, `Runtime exited with error: exit status ${code}`));
    }
    this.forget(slot);
    this.dispatch();
  }

  private timeout(job: Job, budgetMs: number): void {
    if (this.options.debugging && job.slot) {
      // Probably paused at a breakpoint: killing the worker would end the debugging session with it.
      const { functionName, context } = job.req;
      const notify = this.options.onDeadlinePassed;
      if (notify) this.guard(() => notify({ functionName, requestId: context.awsRequestId, budgetMs }));
      return;
    }
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    const slot = job.slot;
    this.finish(job, timedOutError(job.req.context.awsRequestId, budgetMs));
    // The handler may be stuck in a loop: only terminating its thread stops it.
    if (slot) void this.kill(slot);
    this.dispatch();
  }

  private release(slot: Slot): void {
    slot.job = undefined;
    slot.lastUsed = Date.now();
    if (slot.retiring) void this.kill(slot);
    this.dispatch();
  }

  private output(slot: Slot, stream: "stdout" | "stderr", text: string): void {
    for (const line of slot.lines.push(stream, text)) this.line(slot, stream, line);
  }

  private line(slot: Slot, stream: "stdout" | "stderr", line: string): void {
    if (!slot.job && slot.invocations === 0) {
      if (slot.early.length < MAX_EARLY_LINES) slot.early.push({ stream, line });
      return;
    }
    slot.job?.logs.append(line);
    const { functionName, envId, lastRequestId: requestId } = slot;
    const onLog = this.options.onLog;
    if (onLog) this.guard(() => onLog({ functionName, envId, requestId, stream, line }));
  }

  private finish(job: Job, outcome: LambdaError | { result: unknown }, durationMs?: number): void {
    if (job.done) return;
    const slot = job.slot;
    if (slot?.job === job) for (const { stream, line } of slot.lines.flush()) this.line(slot, stream, line);
    job.done = true;
    clearTimeout(job.timer);
    const common = {
      logs: job.logs.toString(),
      durationMs: durationMs ?? (job.startedAt === undefined ? 0 : performance.now() - job.startedAt),
      coldStart: job.coldStart,
    };
    job.resolve(
      "result" in outcome
        ? { ok: true, result: outcome.result, ...common }
        : { ok: false, error: outcome, ...common },
    );
  }

  /** Terminates a worker; what it was running must already be finished. */
  private async kill(slot: Slot): Promise<void> {
    this.forget(slot);
    try {
      await slot.worker.terminate();
    } catch {
      // Already gone: nothing to stop.
    }
  }

  private forget(slot: Slot): void {
    this.slots.delete(slot);
    if (this.current.get(slot.key) === slot) this.current.delete(slot.key);
    slot.job = undefined;
  }

  /** Event handlers must never throw into the process: log and go on. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      console.error("pulumi-live: worker pool error:", error);
    }
  }
}
