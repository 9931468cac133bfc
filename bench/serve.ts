/**
 * `serve --local` as a developer runs it, with the 50-module TypeScript handler: save → build event and
 * save → next invocation served with the new code, the Invoke API through the gateway (sequential and 16
 * concurrent clients, against a plain HTTP server in the same process), and serve's memory (RSS of serve
 * and its children, heap after a collection) over 1,000 rebuilds with an invocation after each and over
 * 10,000 invocations. Two serve processes, one after the other: the calls in one, the rebuilds in the other.
 */
import { fork, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { concurrent, KeepAliveClient, sequential } from "./http-client";
import { treeMemory, treeRss } from "./memory";
import { partsOf, rebuildMemoryRow, type MemorySample } from "./serve-memory";
import { mainThreadCpuMs, treeCpuMs } from "./serve-cpu";
import { handlerSource, MODULES, writeProject } from "./project";
import { SEQUENTIAL_WARM_CALLS } from "./relay";
import { now, type HostCommand, type HostConfig, type HostMessage } from "./serve-messages";
import { load, mb, ms, percentile, type Row } from "./stats";

const INVOKE_PATH = "/2015-03-31/functions/bench/invocations";
const CLIENTS = 16;
/** Measured calls of the sequential Invoke API row. */
const SEQUENTIAL_CALLS = 2000;
/** Seconds of the 16 clients' load before the gateway's throughput is measured. */
const WARM_SECONDS = 3;
/** The pause before each timed edit (ms). */
const PAUSE_MS = 100;

export interface ServeBenchOptions {
  rebuilds: number;
  invocations: number;
  /** The function's environments at most (default: one per client, as Lambda gives 16 concurrent calls). */
  environments?: number;
  /** Invocation records off, to see what writing them costs. */
  noRecord?: boolean;
}

/** The host process, with its messages as queues. */
class Host {
  private readonly builds: Extract<HostMessage, { type: "build" }>[] = [];
  private waiting?: () => void;
  private memoryReply?: (m: Extract<HostMessage, { type: "memory" }>) => void;
  readonly ready: Promise<Extract<HostMessage, { type: "ready" }>>;

  constructor(readonly child: ChildProcess) {
    this.ready = new Promise((resolve, reject) => {
      child.on("message", (message: HostMessage) => {
        if (message.type === "ready") resolve(message);
        else if (message.type === "failed") reject(new Error(`serve did not start: ${message.error}`));
        else if (message.type === "build") {
          this.builds.push(message);
          this.waiting?.();
        } else this.memoryReply?.(message);
      });
      child.once("exit", (code) => reject(new Error(`serve exited with ${code}`)));
    });
  }

  /** Forgets the builds reported so far. */
  clearBuilds(): void {
    this.builds.length = 0;
  }

  /** The next good build reported (waits at most 10 s). */
  async nextGoodBuild(): Promise<Extract<HostMessage, { type: "build" }>> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const next = this.builds.shift();
      if (next?.ok) return next;
      if (next) continue;
      if (Date.now() > deadline) throw new Error("serve reported no good build within 10 s of an edit");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiting = undefined;
    }
  }

  /** Heap of the serve process (after a full collection when `gc`) and RSS of it and its children. */
  async memory(gc: boolean): Promise<MemorySample> {
    const reply = new Promise<Extract<HostMessage, { type: "memory" }>>(
      (resolve) => (this.memoryReply = resolve),
    );
    this.child.send({ type: "memory", gc } satisfies HostCommand);
    const serve = await reply;
    const processes = treeMemory(this.child.pid!);
    return { ...serve, processes, rss: processes.reduce((sum, p) => sum + p.rss, 0) };
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.send({ type: "close" } satisfies HostCommand);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

function payload(): Buffer {
  return Buffer.from(JSON.stringify({ data: "x".repeat(1000) }));
}

function spread(values: number[], at: number): { low: number; high: number } {
  return { low: Math.min(...values) - at, high: Math.max(...values) - at };
}

const signed = (bytes: number): string => `${bytes >= 0 ? "+" : "−"}${mb(Math.abs(bytes))}`;

/** A `serve --local` process of the benchmark, warmed up, with what a measurement needs. */
interface Served {
  host: Host;
  invokeUrl: string;
  plain: string;
  body: Buffer;
  /** The handler's entry module, which the rebuilds edit. */
  entry: string;
}

/**
 * Runs `measure` against a serve process of its own, in a project of its own: the rebuilds and the
 * invocation bursts each in a fresh serve, so that neither's heap growth (which V8 gives back some
 * seconds later) falls into the other's memory rows.
 */
async function withServe<T>(
  config: Omit<HostConfig, "dir">,
  measure: (served: Served) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), "pulumi-live-bench-serve-"));
  const entry = await writeProject(dir);
  const host = new Host(
    fork(path.join(__dirname, "serve-host.js"), [], {
      // PULUMI_LIVE_BENCH_SERVE_ARGS: Node and V8 flags for serve (`--cpu-prof`, `--trace-opt-stats`).
      execArgv: [
        "--expose-gc",
        ...(process.env.PULUMI_LIVE_BENCH_SERVE_ARGS ?? "").split(" ").filter(Boolean),
      ],
      env: {
        ...process.env,
        PULUMI_LIVE_BENCH_HOST: JSON.stringify({ ...config, dir } satisfies HostConfig),
      },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    }),
  );
  try {
    const { gateway, plain } = await host.ready;
    const invokeUrl = gateway + INVOKE_PATH;
    const body = payload();
    await sequential(invokeUrl, body, 100); // warm-up: environment, worker, connections
    await sequential(plain, body, 100);
    return await measure({ host, invokeUrl, plain, body, entry });
  } finally {
    await host.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchServe(options: ServeBenchOptions): Promise<Row[]> {
  const environments = options.environments ?? CLIENTS;
  const config = { environments, noRecord: options.noRecord };
  const calls = await withServe(config, async (served) => ({
    invokeApi: await invokeApiRow(served),
    throughput: await throughputRows(served, options, environments),
  }));
  const rebuilds = await withServe(config, (served) => rebuildRows(served, options));
  return [calls.invokeApi, ...rebuilds, ...calls.throughput];
}

/** The Invoke API, sequential calls through the gateway. */
async function invokeApiRow({ invokeUrl, plain, body }: Served): Promise<Row> {
  // The Invoke API, one client after another: the first calls after start (V8 still compiling the paths
  // they take, relay.ts); then, after SEQUENTIAL_WARM_CALLS more, the steady ones.
  const early = await sequential(invokeUrl, body, 1000);

  // The Invoke API's steady calls against the same requests to a plain HTTP server. 2,000 calls: a p99
  // is then the 20th slowest, not the 10th (it moved ±1.5 ms between runs of 1,000).
  await sequential(invokeUrl, body, SEQUENTIAL_WARM_CALLS);
  const seq = await sequential(invokeUrl, body, SEQUENTIAL_CALLS);
  await sequential(plain, body, SEQUENTIAL_WARM_CALLS);
  const plainSeq = await sequential(plain, body, SEQUENTIAL_CALLS);
  const [s50, s99, p50, p99] = [
    percentile(seq, 50),
    percentile(seq, 99),
    percentile(plainSeq, 50),
    percentile(plainSeq, 99),
  ];
  const [e50, e99] = [percentile(early, 50), percentile(early, 99)];
  return {
    figure: `Lambda Invoke API through the local gateway, keep-alive, sequential, 1 KB, ${SEQUENTIAL_CALLS} calls after ${SEQUENTIAL_WARM_CALLS} of the same (p50 / p99)`,
    value: `${ms(s50)} / ${ms(s99)} ms (the first 1000 after start: ${ms(e50)} / ${ms(e99)} ms)`,
    baseline: `plain HTTP server ${ms(p50)} / ${ms(p99)} ms`,
    ratio: (s50 / p50).toFixed(1),
    goal: "≤ 2 / ≤ 8 ms",
    met: s50 <= 2 && s99 <= 8,
    data: { p50: s50, p99: s99, baselineP50: p50, baselineP99: p99, earlyP50: e50, earlyP99: e99 },
    load: load(),
  };
}

/** Save → build event → the next invocation, with serve's memory sampled along the way. */
async function rebuildRows(
  { host, invokeUrl, plain, body, entry }: Served,
  options: ServeBenchOptions,
): Promise<Row[]> {
  const rows: Row[] = [];
  // The calls a serve had before its rebuilds in earlier versions of this bench (its first 1,000 and as
  // many to the plain server), so that the rebuild rows stay comparable with theirs.
  await sequential(invokeUrl, body, 1000);
  await sequential(plain, body, 1000);
  const client = new KeepAliveClient();
  const toBuild: number[] = [];
  const toServed: number[] = [];
  // Edits made right after the previous one was served (churn for the memory rows): timed apart.
  const backToBack: number[] = [];
  const rss: ReturnType<typeof partsOf>[] = [];
  const heap = new Map<number, number>();
  let rebuiltAgain = 0;
  try {
    for (let edit = 1; edit <= options.rebuilds; edit++) {
      // Every fifth edit comes after a pause, as a developer's saves do: what was started in the
      // background after the previous one (the next spare thread, old workers ending) is done.
      const timed = edit % 5 === 0;
      if (timed) await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      host.clearBuilds();
      const t0 = now();
      writeFileSync(entry, handlerSource(edit));
      let build = await host.nextGoodBuild();
      const builtAt = build.at;
      for (;;) {
        const reply = await client.post(invokeUrl, body);
        const result = JSON.parse(reply.body.toString()) as { edit?: number };
        if (result.edit === edit) break;
        // The build read the file before the write was complete: the builder builds again.
        rebuiltAgain++;
        build = await host.nextGoodBuild();
      }
      if (timed) {
        toServed.push(now() - t0);
        toBuild.push(builtAt - t0);
      } else backToBack.push(now() - t0);
      // The heap is read after a full collection: only at 100 (before that RSS sample, the baseline) and
      // at the end (after the last), so that the collections forced here do not flatten RSS between.
      if (edit === 100) heap.set(edit, (await host.memory(true)).heapUsed);
      if (edit % 10 === 0 && edit >= 100) rss.push(partsOf(edit, await host.memory(false)));
      if (edit === options.rebuilds) heap.set(edit, (await host.memory(true)).heapUsed);
    }
  } finally {
    client.close();
  }
  const [b50, v50, v95] = [percentile(toBuild, 50), percentile(toServed, 50), percentile(toServed, 95)];
  rows.push({
    figure: `save → next invocation runs the new code, ${MODULES}-module handler through the gateway, saves ${PAUSE_MS} ms apart (p50 / p95)`,
    value: `${ms(v50)} / ${ms(v95)} ms`,
    baseline: `save → build event ${ms(b50)} ms`,
    ratio: (v50 / b50).toFixed(2),
    goal: "≤ 30 / ≤ 50 ms",
    met: v50 <= 30 && v95 <= 50,
    data: {
      p50: v50,
      p95: v95,
      buildEventP50: b50,
      edits: toServed.length,
      backToBackP50: percentile(backToBack, 50),
      rebuiltAgain,
    },
    load: load(),
  });
  rows.push({
    figure: "save → build event (chokidar + rebuild, p50 / p95)",
    value: `${ms(b50)} / ${ms(percentile(toBuild, 95))} ms`,
    data: { p50: b50, p95: percentile(toBuild, 95) },
    load: load(),
  });
  if (rss.length > 0) {
    rows.push(
      rebuildMemoryRow(options.rebuilds, rss, heap.get(100) ?? NaN, heap.get(options.rebuilds) ?? NaN),
    );
  }

  return rows;
}

/** The 16 clients' load for `ms` (in rounds of 500 invocations) after a round that starts everything; its rate. */
async function warmUp(url: string, body: Buffer, ms: number): Promise<number> {
  await concurrent(url, body, CLIENTS, CLIENTS * 20);
  const t0 = performance.now();
  let done = 0;
  while (performance.now() - t0 < ms) done += (await concurrent(url, body, CLIENTS, 500)).done;
  return done / ((performance.now() - t0) / 1000);
}

/** 16 concurrent clients: the gateway's throughput, and memory over 10,000 invocations. */
async function throughputRows(
  { host, invokeUrl, plain, body }: Served,
  options: ServeBenchOptions,
  environments: number,
): Promise<Row[]> {
  const rows: Row[] = [];
  // Warm-up: every environment started and connected, its worker loaded, and 3 s of the same load, as
  // for the relay's 16 environments (relay.ts): the first seconds run cold code in the 15 handler workers
  // started for it. Their rate is printed beside.
  const warm = await warmUp(invokeUrl, body, WARM_SECONDS * 1000);
  const invokeRss: number[] = [];
  const invokeHeap = new Map<number, number>();
  const before = await host.memory(true);
  invokeHeap.set(0, before.heapUsed);
  const sample = { every: 500, at: () => invokeRss.push(treeRss(host.child.pid!)) };
  const cpuBefore = treeCpuMs(host.child.pid!);
  const mainBefore = mainThreadCpuMs(host.child.pid!);
  const through = await concurrent(invokeUrl, body, CLIENTS, options.invocations, sample);
  // What each invocation cost serve (and its children) in CPU: 2 cores at 2 ms each make 1,000/s.
  const cpuPerInvocation = (treeCpuMs(host.child.pid!) - cpuBefore) / options.invocations;
  // Its main thread's share: the gateway, the broker, the session, the recorder.
  const mainPerInvocation = (mainThreadCpuMs(host.child.pid!) - mainBefore) / options.invocations;
  const setup = [
    environments === CLIENTS ? "" : `${environments} environment${environments === 1 ? "" : "s"}`,
    options.noRecord ? "no records" : "",
  ].filter(Boolean);
  const after = await host.memory(true);
  invokeHeap.set(options.invocations, after.heapUsed);
  const kept = after.keptAnswers - before.keptAnswers;
  const plainThrough = await concurrent(plain, body, CLIENTS, options.invocations);
  const steady = through.windows.length > 0 ? Math.min(...through.windows) : through.rate;
  rows.push({
    figure: `throughput through the local gateway, ${CLIENTS} concurrent clients, 1 KB${setup.length ? ` (${setup.join(", ")})` : ""}, after ${WARM_SECONDS} s of the same load (all / slowest second; CPU of serve and its children per invocation)`,
    value: `${through.rate.toFixed(0)} / ${steady.toFixed(0)} invocations/s (the first ${WARM_SECONDS} s of the load: ${warm.toFixed(0)}/s); serve's CPU ${ms(cpuPerInvocation)} ms per invocation (its main thread ${ms(mainPerInvocation)})`,
    baseline: `plain HTTP server ${plainThrough.rate.toFixed(0)}/s`,
    ratio: (through.rate / plainThrough.rate).toFixed(3),
    goal: "≥ 1,000/s",
    met: through.rate >= 1000,
    data: {
      rate: through.rate,
      slowestSecond: steady,
      warmUpRate: warm,
      baselineRate: plainThrough.rate,
      cpuPerInvocation,
      mainThreadCpuPerInvocation: mainPerInvocation,
      environments,
      records: options.noRecord ? 0 : 1,
    },
    load: load(),
  });
  if (invokeRss.length > 1) {
    const at1000 = invokeRss[1];
    const { low, high } = spread(invokeRss.slice(1), at1000);
    const h0 = invokeHeap.get(0)!;
    const h1 = invokeHeap.get(options.invocations)!;
    rows.push({
      figure: `serve's memory over ${options.invocations} invocations (${CLIENTS} clients): RSS of serve and its children, 1,000 → ${options.invocations} (lowest / highest against 1,000); heap after a collection`,
      value: `${signed(low)} / ${signed(high)}; heap ${mb(h0)} → ${mb(h1)}, of which ${mb(kept)} answers kept 60 s for duplicates`,
      baseline: `RSS at 1,000 invocations ${mb(at1000)}`,
      ratio: (Math.max(...invokeRss) / at1000).toFixed(2),
      goal: "heap flat but for the answers kept",
      met: h1 - h0 - kept <= 5 * 1048576,
      data: {
        rssAt1000: at1000,
        rssLow: low,
        rssHigh: high,
        heapBefore: h0,
        heapAfter: h1,
        keptAnswers: kept,
      },
      load: load(),
    });
  }
  return rows;
}
