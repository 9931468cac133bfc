import { randomUUID } from "node:crypto";
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
import { createRelay, type Relay } from "../stub/relay";
import type { LambdaContext } from "../stub/lambda-context";
import { ms, percentile, type Row } from "./stats";

const quiet: SessionEvents = {
  invoke: () => undefined,
  result: () => undefined,
  drop: () => undefined,
  status: () => undefined,
  takeover: () => undefined,
};

function context(name: string, timeoutMs = 30_000): LambdaContext {
  const deadline = Date.now() + timeoutMs;
  return {
    awsRequestId: randomUUID(),
    functionName: name,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: "128",
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: "bench",
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

/**
 * The relay in one process, as in local mode but without the gateway: the stub's relay (as in Lambda)
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
  const prefix = topicPrefix("bench", "local");
  const clientPrefix = clientIdPrefix("bench", "local");
  const session = new Session({
    key,
    prefix,
    functions: [{ name: "echo", functionId: functionId("echo"), exportName: "handler", ready: () => builder.ready() }],
    runner: pool,
    events: quiet,
    connect: (will, suffix) =>
      MqttConnection.connect({
        target: { kind: "broker", url: broker.url },
        clientId: clientId(clientPrefix, "cli", suffix),
        will,
      }),
  });
  await session.start();
  const config = {
    prefix,
    functionId: "echo",
    key,
    clientPrefix,
    stack: "bench/local",
    broker: { kind: "url" as const, url: broker.url },
    ackTimeoutMs: 2000,
  };
  const relays: Relay[] = [];
  const relay = (i: number) => (relays[i] ??= createRelay(config, { envId: `env${i}`, log: () => undefined }));
  const rows: Row[] = [];
  try {
    const payload = { data: "x".repeat(1000) };
    // Baseline: the same bundled handler called directly in this process.
    const direct = require(build.file).handler as (e: unknown) => Promise<unknown>;
    const directTimes: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t0 = performance.now();
      await direct(payload);
      directTimes.push(performance.now() - t0);
    }
    // Warm up: connection, worker, JIT.
    for (let i = 0; i < 200; i++) await relay(0).handle(payload, context("echo"));
    const relayTimes: number[] = [];
    const before = publishes;
    const N = 1000;
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      await relay(0).handle(payload, context("echo"));
      relayTimes.push(performance.now() - t0);
    }
    const perInvocation = (publishes - before) / N;
    const d50 = percentile(directTimes, 50);
    const r50 = percentile(relayTimes, 50);
    rows.push({
      figure: "relay round trip, 1 KB in and out, sequential (p50 / p99)",
      value: `${ms(r50)} / ${ms(percentile(relayTimes, 99))} ms`,
      baseline: `direct call ${ms(d50)} / ${ms(percentile(directTimes, 99))} ms`,
      ratio: (r50 / d50).toFixed(0),
      goal: "overhead ≤ 2 ms",
    });
    rows.push({
      figure: "relay overhead per invocation (relay − direct, p50 / p99)",
      value: `${ms(r50 - d50)} / ${ms(percentile(relayTimes, 99) - percentile(directTimes, 99))} ms`,
      goal: "≤ 2 ms",
    });
    rows.push({ figure: "MQTT publishes per invocation, 1 KB in and out", value: perInvocation.toFixed(2), goal: "≤ 3" });

    // Throughput: 8 execution environments, each one invocation at a time as Lambda runs them.
    const envs = 8;
    for (let i = 0; i < envs; i++) await relay(i).handle(payload, context("echo"));
    const seconds = 3;
    const stopAt = performance.now() + seconds * 1000;
    let done = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: envs }, async (_, i) => {
        while (performance.now() < stopAt) {
          await relay(i).handle(payload, context("echo"));
          done++;
        }
      }),
    );
    const rate = done / ((performance.now() - t0) / 1000);
    const seqRate = 1000 / r50;
    rows.push({
      figure: `throughput, 1 KB payloads, ${envs} environments`,
      value: `${rate.toFixed(0)} invocations/s`,
      baseline: `sequential ${seqRate.toFixed(0)}/s`,
      ratio: (rate / seqRate).toFixed(1),
      goal: "≥ 1,000/s",
    });

    // 5 MB round trip (request and response of 5 MB each).
    const big = { data: Buffer.alloc(3_900_000, 7).toString("base64").replace(/A/g, () => String.fromCharCode(65 + Math.floor(Math.random() * 26))) };
    const bigTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t1 = performance.now();
      await relay(0).handle(big, context("echo"));
      bigTimes.push(performance.now() - t1);
    }
    rows.push({ figure: "5 MB request and 5 MB response round trip (median of 5)", value: `${ms(percentile(bigTimes, 50))} ms` });
    return rows;
  } finally {
    await Promise.allSettled(relays.map((r) => r.close()));
    await session.close();
    await pool.close();
    await builder.dispose();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
}
