import { fork } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { clientId, clientIdPrefix, generateKey, topicPrefix, functionId } from "../protocol";
import { startBroker } from "../cli/local/broker";
import { MqttConnection } from "../cli/mqtt-connection";
import { FunctionBuilder } from "../cli/runtime/builder";
import { WorkerPool } from "../cli/runtime/worker-pool";
import { Session, type SessionEvents } from "../cli/session";
import type { LoadCommand, LoadConfig } from "./stub-load";
import { ms, percentile, type Row } from "./stats";

const quiet: SessionEvents = {
  invoke: () => undefined,
  result: () => undefined,
  drop: () => undefined,
  status: () => undefined,
  takeover: () => undefined,
};

/**
 * The relay as in local mode without the gateway: stubs' relays in a process of their own (as in Lambda)
 * → embedded aedes → the session (aws-crt client) → worker thread → back.
 */
export async function benchRelay(): Promise<Row[]> {
  const dir = await mkdtemp(path.join(tmpdir(), "pulumi-live-bench-relay-"));
  const entry = path.join(dir, "echo.ts");
  await writeFile(entry, "export const handler = async (event: unknown) => event;\n");
  let publishes = 0;
  const broker = await startBroker({ onPublish: () => publishes++ });
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
  const session = new Session({
    key,
    prefix,
    functions: [
      { name: "echo", functionId: functionId("echo"), exportName: "handler", ready: () => builder.ready() },
    ],
    runner: pool,
    events: quiet,
    connect: (will, suffix) =>
      MqttConnection.connect({
        target: { kind: "broker", url: broker.url },
        clientId: clientId(clientIdPrefix(namespace, "session"), suffix),
        will,
      }),
  });
  await session.start();
  const config: LoadConfig = {
    prefix,
    functionId: "echo",
    key: key.toString("base64"),
    clientPrefix,
    stack: "bench/local",
    broker: { kind: "url", url: broker.url },
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
    const direct = require(build.file).handler as (e: unknown) => Promise<unknown>;
    const event = { data: "x".repeat(1000) };
    const directTimes: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t0 = performance.now();
      await direct(event);
      directTimes.push(performance.now() - t0);
    }
    await ask({ type: "sequential", count: 200, bytes: 1000 }); // warm-up: connection, worker, JIT
    const before = publishes;
    const N = 1000;
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
    rows.push({
      figure: "relay round trip, 1 KB in and out, one environment (p50 / p99)",
      value: `${ms(r50)} / ${ms(r99)} ms`,
      baseline: `direct call ${ms(d50)} / ${ms(d99)} ms`,
      ratio: (r50 / d50).toFixed(0),
    });
    rows.push({
      figure: "relay overhead per invocation (relay − direct, p50 / p99)",
      value: `${ms(r50 - d50)} / ${ms(r99 - d99)} ms`,
      goal: "≤ 2 ms",
    });
    rows.push({
      figure: "MQTT publishes per invocation, 1 KB in and out",
      value: perInvocation.toFixed(2),
      goal: "≤ 3",
    });

    const environments = 16;
    const { rate } = await ask<{ rate: number }>({
      type: "concurrent",
      environments,
      seconds: 4,
      bytes: 1000,
    });
    const sequentialRate = 1000 / r50;
    rows.push({
      figure: `throughput, 1 KB payloads, ${environments} environments`,
      value: `${rate.toFixed(0)} invocations/s`,
      baseline: `one environment ${sequentialRate.toFixed(0)}/s`,
      ratio: (rate / sequentialRate).toFixed(1),
      goal: "≥ 1,000/s",
    });
    const { times: bigTimes } = await ask<{ times: number[] }>({
      type: "big",
      count: 5,
      bytes: 5 * 1024 * 1024,
    });
    rows.push({
      figure: "5 MB request and 5 MB response round trip (median of 5)",
      value: `${ms(percentile(bigTimes, 50))} ms`,
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
