import { fork } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { randomBytes, randomUUID } from "node:crypto";
import {
  clientIdPrefix,
  encodeMessage,
  generateKey,
  functionId,
  Reassembler,
  stackTopics,
  topicPrefix,
  type Message,
  type RequestMessage,
} from "../protocol";
import { startBroker } from "../cli/local/broker";
import { sessionConnector } from "../cli/commands/serve-local";
import { FunctionBuilder } from "../cli/runtime/builder";
import { WorkerPool } from "../cli/runtime/worker-pool";
import { Session, type SessionEvents } from "../cli/session";
import { randomText } from "./payload";
import type { LoadCommand, LoadConfig } from "./stub-load";
import { load as loadAverage, ms, percentile, type Row } from "./stats";

/**
 * Seconds of the 16 environments' load before the measured ones. The first seconds of it are slow (a
 * half to a quarter of the steady rate): the worker threads started for the new environments, and the
 * paths that only concurrent calls take, run cold code while the machine's two cores are busy; the
 * session's ack timer is not it (acks after 250 ms instead of 25 left the slow start as it was). Its first second is
 * reported apart (`coldFirstSecond` in `--json`) so the row shows the steady rate the goal is about.
 */
const WARM_SECONDS = 3;

/**
 * Calls between the early and the measured sequential ones (about 3 s). V8 compiles the paths an
 * invocation takes over the first few thousand calls, on background threads that share the machine's
 * two cores with the calls (`--trace-opt-stats`: 357 functions, 2.2 s of compiling, between calls 500
 * and 2,500 through the gateway); the early calls are reported beside the steady ones.
 */
export const SEQUENTIAL_WARM_CALLS = 1500;

const quiet: SessionEvents = {
  invoke: () => undefined,
  result: () => undefined,
  drop: () => undefined,
  status: () => undefined,
  takeover: () => undefined,
};

/**
 * The relay as in local mode without the gateway: stubs' relays in a process of their own (as in Lambda)
 * → embedded aedes → the session (connected as `serve --local` connects it: in process) → worker thread →
 * back. The broker keeps local mode's rules (per-run password, the stack's topics).
 */
export async function benchRelay(): Promise<Row[]> {
  const dir = await mkdtemp(path.join(tmpdir(), "pulumi-live-bench-relay-"));
  const entry = path.join(dir, "echo.ts");
  await writeFile(entry, "export const handler = async (event: unknown) => event;\n");
  let publishes = 0;
  const builder = new FunctionBuilder({
    name: "echo",
    entry,
    exportName: "handler",
    outDir: path.join(dir, ".pulumi-live/build/echo"),
    watch: false,
    cwd: dir,
  });
  const build = await builder.start();
  if (!build.ok) throw new Error(build.error);
  const pool = new WorkerPool({ concurrency: 8 });
  const key = generateKey();
  const namespace = { organization: "local", project: "bench", stack: "local", id: "bench" };
  const prefix = topicPrefix(namespace);
  const clientPrefix = clientIdPrefix(namespace, "stub");
  const password = randomBytes(24).toString("base64url");
  const broker = await startBroker({ onPublish: () => publishes++, password, prefix });
  const session = new Session({
    key,
    prefix,
    functions: [
      { name: "echo", functionId: functionId("echo"), exportName: "handler", ready: () => builder.ready() },
    ],
    runner: pool,
    events: quiet,
    connect: sessionConnector({
      broker,
      secret: password,
      clientPrefix: clientIdPrefix(namespace, "session"),
    }),
  });
  await session.start();
  const config: LoadConfig = {
    prefix,
    functionId: "echo",
    key: key.toString("base64"),
    clientPrefix,
    stack: "bench/local",
    broker: { kind: "url", url: broker.url, password },
    ackTimeoutMs: 2000,
  };
  // The stubs run in their own process, as in Lambda; this one is the CLI with its embedded broker.
  const load = fork(path.join(__dirname, "stub-load.js"), [], {
    env: { ...process.env, PULUMI_LIVE_BENCH_CONFIG: JSON.stringify(config) },
  });
  const ask = <T>(command: LoadCommand) =>
    new Promise<T>((resolve) => {
      load.once("message", (reply) => resolve(reply as T));
      load.send(command);
    });
  await new Promise((resolve) => load.once("message", resolve));
  const rows: Row[] = [];
  try {
    // Baseline: the same bundled handler called directly in one process.
    const direct = (require(build.file) as { handler: (e: unknown) => Promise<unknown> }).handler;
    const event = { data: "x".repeat(1000) };
    const directTimes: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t0 = performance.now();
      await direct(event);
      directTimes.push(performance.now() - t0);
    }
    await ask({ type: "sequential", count: 200, bytes: 1000 }); // warm-up: connection, worker
    const N = 1000;
    // The first calls after start, while V8 still compiles the hot paths (on the same two cores).
    const { times: earlyTimes } = await ask<{ times: number[] }>({
      type: "sequential",
      count: N,
      bytes: 1000,
    });
    await ask({ type: "sequential", count: SEQUENTIAL_WARM_CALLS, bytes: 1000 });
    const before = publishes;
    const { times: relayTimes } = await ask<{ times: number[] }>({
      type: "sequential",
      count: N,
      bytes: 1000,
    });
    const perInvocation = (publishes - before) / N;
    const d50 = percentile(directTimes, 50);
    const d99 = percentile(directTimes, 99);
    const r50 = percentile(relayTimes, 50);
    const r99 = percentile(relayTimes, 99);
    const [e50, e99] = [percentile(earlyTimes, 50) - d50, percentile(earlyTimes, 99) - d99];
    rows.push({
      figure: `relay overhead per invocation, 1 KB in and out, one environment, after ${N + SEQUENTIAL_WARM_CALLS + 200} calls (relay − direct, p50 / p99)`,
      value: `${ms(r50 - d50)} / ${ms(r99 - d99)} ms (the first ${N} after start: ${ms(e50)} / ${ms(e99)} ms)`,
      baseline: `direct call ${ms(d50)} / ${ms(d99)} ms`,
      ratio: (r50 / Math.max(d50, 0.001)).toFixed(0),
      goal: "≤ 1 / ≤ 5 ms",
      met: r50 - d50 <= 1 && r99 - d99 <= 5,
      data: { p50: r50 - d50, p99: r99 - d99, directP50: d50, directP99: d99, earlyP50: e50, earlyP99: e99 },
      load: loadAverage(),
    });
    rows.push({
      figure: "MQTT publishes per invocation, 1 KB in and out",
      value: perInvocation.toFixed(2),
      goal: "≤ 3",
      met: perInvocation <= 3,
      data: { publishes: perInvocation },
    });

    const environments = 16;
    const { rate, windows, warmWindows } = await ask<{
      rate: number;
      windows: number[];
      warmWindows: number[];
    }>({
      type: "concurrent",
      environments,
      seconds: 4,
      bytes: 1000,
      warmSeconds: WARM_SECONDS,
    });
    const sequentialRate = 1000 / r50;
    const slowest = windows.length > 0 ? Math.min(...windows) : rate;
    const coldFirstSecond = warmWindows[0] ?? 0;
    rows.push({
      figure: `throughput, 1 KB payloads, ${environments} environments, after ${WARM_SECONDS} s of the same load (all / slowest second)`,
      value: `${rate.toFixed(0)} / ${slowest.toFixed(0)} invocations/s (first second of the load: ${coldFirstSecond})`,
      baseline: `one environment ${sequentialRate.toFixed(0)}/s`,
      ratio: (rate / sequentialRate).toFixed(1),
      goal: "≥ 2,000/s, steadily",
      met: slowest >= 2000,
      data: { rate, slowestSecond: slowest, oneEnvironment: sequentialRate, coldFirstSecond },
      load: loadAverage(),
    });
    const big = 5 * 1024 * 1024;
    const { times: bigTimes } = await ask<{ times: number[] }>({ type: "big", count: 5, bytes: big });
    const inProcess: number[] = [];
    for (let i = 0; i < 5; i++) inProcess.push(await sameWorkInProcess(key, prefix, direct, big));
    const [b50, w50] = [percentile(bigTimes, 50), percentile(inProcess, 50)];
    rows.push({
      figure: "5 MB request and 5 MB response round trip (median of 5)",
      value: `${ms(b50)} ms`,
      baseline: `the same work in one process ${ms(w50)} ms`,
      ratio: (b50 / w50).toFixed(2),
      goal: "≤ 3 × the same work in one process",
      met: b50 <= 3 * w50,
      data: { median: b50, inProcessMedian: w50 },
      load: loadAverage(),
    });
    return rows;
  } finally {
    load.send({ type: "close" });
    await new Promise((resolve) => (load.exitCode === null ? load.once("exit", resolve) : resolve(null)));
    await session.close();
    await pool.close();
    await builder.dispose();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The relay's own work for one 5 MB round trip, in one process: the request encoded (JSON, compressed
 * when that pays, sealed, chunked) and reassembled, the handler called and its result serialized as the
 * worker does, the response encoded and reassembled — no broker, no sockets, no threads.
 */
async function sameWorkInProcess(
  key: Buffer,
  prefix: string,
  handler: (event: unknown) => Promise<unknown>,
  bytes: number,
): Promise<number> {
  const topics = stackTopics(prefix);
  const event = { data: randomText(bytes) };
  const t0 = performance.now();
  const request: RequestMessage = {
    type: "request",
    requestId: randomUUID(),
    functionId: "echo",
    envId: "bench",
    responseTopic: topics.response("echo", "bench"),
    deadline: Date.now() + 60_000,
    event,
    context: {
      awsRequestId: randomUUID(),
      functionName: "echo",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:echo",
      memoryLimitInMB: "128",
      logGroupName: "/aws/lambda/echo",
      logStreamName: "bench",
    },
    envHash: "bench",
  };
  const received = reassemble(
    key,
    topics.request("echo"),
    encodeMessage(key, topics.request("echo"), request),
  );
  if (received?.type !== "request") throw new Error("the request did not reassemble");
  const result = JSON.parse(JSON.stringify(await handler(received.event))) as unknown;
  const response: Message = { type: "response", requestId: request.requestId, result };
  const answered = reassemble(
    key,
    request.responseTopic,
    encodeMessage(key, request.responseTopic, response),
  );
  if (answered?.type !== "response") throw new Error("the response did not reassemble");
  return performance.now() - t0;
}

function reassemble(key: Buffer, topic: string, frames: Buffer[]): Message | undefined {
  const reassembler = new Reassembler(key);
  let message: Message | undefined;
  for (const frame of frames) message = reassembler.push(topic, frame) ?? message;
  return message;
}
