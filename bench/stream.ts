import { fork } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { clientId, clientIdPrefix, functionId, generateKey, topicPrefix } from "../protocol";
import { startLocalServer } from "../cli/commands/serve-local";
import { startBroker } from "../cli/local/broker";
import { MqttConnection } from "../cli/mqtt-connection";
import type { Reporter } from "../cli/reporter";
import { WorkerPool } from "../cli/runtime/worker-pool";
import { Session } from "../cli/session";
import {
  FIRST_BYTE,
  THROUGHPUT,
  build,
  inOneProcess,
  sealedInOneProcess,
  type Measured,
} from "./stream-baselines";
import type { StreamLoadCommand, StreamLoadReply } from "./stream-load";
import type { LoadConfig } from "./stub-load";
import { load as loadAverage, ms, percentile, type Row } from "./stats";

/** A streaming handler: a first line at once, then `bytes` in 64 KB writes, each waiting for the stream. */
const HANDLER = `declare const awslambda: any;
export const handler = awslambda.streamifyResponse(async (event: any, responseStream: any) => {
  const total = Number(event.bytes ?? event.queryStringParameters?.bytes ?? 0);
  responseStream.write("first\\n");
  const chunk = Buffer.alloc(65536, 120);
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!responseStream.write(chunk)) await new Promise((resolve) => responseStream.once("drain", resolve));
  }
  responseStream.end();
});
`;

const ignore = (): void => undefined;
const quiet: Reporter = {
  ready: ignore,
  build: ignore,
  log: ignore,
  error: (e) => process.stderr.write(`serve error: ${e.message}\n`),
  summary: ignore,
  invoke: ignore,
  result: ignore,
  drop: ignore,
  status: ignore,
  takeover: ignore,
};

/**
 * A streamed response's time to first byte and throughput: in local mode through the gateway (HTTP to a
 * RESPONSE_STREAM function URL: gateway → the stub's host → broker → session → worker and back), and
 * through the relay alone (a streaming stub relay in a process of its own ↔ embedded broker ↔ session ↔
 * worker thread), each against the same handler streaming to a sink in one process.
 */
export async function benchStream(): Promise<Row[]> {
  const dir = await mkdtemp(path.join(tmpdir(), "pulumi-live-bench-stream-"));
  await mkdir(path.join(dir, "src"));
  await writeFile(path.join(dir, "src/stream.ts"), HANDLER);
  try {
    const direct = await inOneProcess(dir);
    const sealed = sealedInOneProcess();
    const gateway = await throughGateway(dir);
    const relay = await throughRelay(dir);
    return [
      ...rows("local mode, HTTP through the gateway", gateway, direct, sealed),
      ...rows("through the relay (stub ↔ broker ↔ session)", relay, direct, sealed),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function rows(
  path: string,
  measured: { first: Measured; big: Measured },
  direct: typeof measured,
  sealed: number,
): Row[] {
  const ttfb = percentile(measured.first.firstByte, 50);
  const ttfbDirect = percentile(direct.first.firstByte, 50);
  const rate = throughput(measured.big);
  return [
    {
      figure: `stream time to first byte, ${path} (median of ${FIRST_BYTE.count}, 64 KB streams)`,
      value: `${ms(ttfb)} ms`,
      baseline: `the handler streaming in one process ${ms(ttfbDirect)} ms`,
      ratio: (ttfb / Math.max(ttfbDirect, 0.001)).toFixed(0),
      data: { firstByteMs: ttfb, inProcessMs: ttfbDirect },
      load: loadAverage(),
    },
    {
      figure: `stream throughput, ${path} (median of ${THROUGHPUT.count}, 32 MB streams)`,
      value: `${rate.toFixed(1)} MB/s`,
      baseline: `the stream's chunks sealed and opened in one process ${sealed.toFixed(0)} MB/s`,
      ratio: (rate / sealed).toFixed(2),
      data: {
        mbPerSecond: rate,
        sealedInProcessMbPerSecond: sealed,
        handlerAloneMbPerSecond: throughput(direct.big),
      },
      load: loadAverage(),
    },
  ];
}

/** MB/s of the median stream; a stream that came short is an error, not a figure. */
function throughput(measured: Measured): number {
  for (const bytes of measured.bytes) {
    if (bytes < THROUGHPUT.bytes)
      throw new Error(`a stream came short: ${bytes} of ${THROUGHPUT.bytes} bytes`);
  }
  return measured.bytes[0] / 1048576 / (percentile(measured.total, 50) / 1000);
}

/** `serve --local` with the function declared streaming; plain HTTP requests to its URL. */
async function throughGateway(dir: string): Promise<{ first: Measured; big: Measured }> {
  const server = await startLocalServer({
    functions: ["stream=src/stream.handler"],
    streaming: ["stream"],
    cwd: dir,
    port: 0,
    timeoutSeconds: 120,
    watch: false,
    record: false,
    reporter: quiet,
  });
  const run = async ({ count, bytes }: { count: number; bytes: number }): Promise<Measured> => {
    const out: Measured = { firstByte: [], total: [], bytes: [] };
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const response = await fetch(`${server.gateway}/stream/?bytes=${bytes}`);
      const reader = response.body!.getReader();
      let first = NaN;
      let size = 0;
      for (let part = await reader.read(); !part.done; part = await reader.read()) {
        if (Number.isNaN(first)) first = performance.now() - started;
        size += (part.value as Uint8Array).byteLength;
      }
      out.total.push(performance.now() - started);
      out.firstByte.push(first);
      out.bytes.push(size);
    }
    return out;
  };
  try {
    await run({ count: 3, bytes: FIRST_BYTE.bytes }); // warm-up: environment, worker, JIT
    return { first: await run(FIRST_BYTE), big: await run(THROUGHPUT) };
  } finally {
    await server.close();
  }
}

/** The relay alone: a session, its worker pool and the embedded broker here; the stub in a child. */
async function throughRelay(dir: string): Promise<{ first: Measured; big: Measured }> {
  const broker = await startBroker({});
  const { builder } = await build(dir);
  const pool = new WorkerPool({ concurrency: 2 });
  const key = generateKey();
  const namespace = { organization: "local", project: "bench", stack: "local", id: "stream" };
  const prefix = topicPrefix(namespace);
  const session = new Session({
    key,
    prefix,
    functions: [
      {
        name: "stream",
        functionId: functionId("stream"),
        exportName: "handler",
        ready: () => builder.ready(),
      },
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
    functionId: functionId("stream"),
    key: key.toString("base64"),
    clientPrefix: clientIdPrefix(namespace, "stub"),
    stack: "bench/local",
    broker: { kind: "url", url: broker.url },
    ackTimeoutMs: 2000,
  };
  const load = fork(path.join(__dirname, "stream-load.js"), [], {
    env: { ...process.env, PULUMI_LIVE_BENCH_CONFIG: JSON.stringify(config) },
  });
  // A load process that dies (it reports why on stderr) fails the step instead of leaving it waiting.
  const exited = new Promise<never>((_, reject) =>
    load.once("exit", (code) => reject(new Error(`the stream load process exited (${code})`))),
  );
  exited.catch(() => undefined);
  const reply = () =>
    Promise.race([new Promise<unknown>((resolve) => load.once("message", resolve)), exited]);
  const ask = (command: StreamLoadCommand) => {
    const answer = reply();
    load.send(command);
    return answer as Promise<StreamLoadReply>;
  };
  try {
    await reply();
    await ask({ type: "stream", count: 3, bytes: FIRST_BYTE.bytes }); // warm-up
    return {
      first: await ask({ type: "stream", ...FIRST_BYTE }),
      big: await ask({ type: "stream", ...THROUGHPUT }),
    };
  } finally {
    if (load.connected) load.send({ type: "close" } satisfies StreamLoadCommand);
    await new Promise((resolve) => (load.exitCode === null ? load.once("exit", resolve) : resolve(null)));
    await session.close();
    await pool.close();
    await builder.dispose();
    await broker.close();
  }
}
