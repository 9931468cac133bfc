import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import {
  Reassembler,
  clientId,
  clientIdPrefix,
  encodeMessage,
  functionId,
  generateKey,
  maxStreamChunkBytes,
  topicPrefix,
} from "../protocol";
import { startLocalServer } from "../cli/commands/serve-local";
import { startBroker } from "../cli/local/broker";
import { MqttConnection } from "../cli/mqtt-connection";
import type { Reporter } from "../cli/reporter";
import { FunctionBuilder } from "../cli/runtime/builder";
import { WorkerPool } from "../cli/runtime/worker-pool";
import { Session } from "../cli/session";
import { installAwsLambdaGlobal } from "../core/awslambda";
import { invokeStreamingHandler } from "../core/lambda-streaming";
import type { LambdaHandler } from "../core/lambda-runtime";
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

/** Streams for the time to first byte (small), and for throughput (large). */
const FIRST_BYTE = { count: 20, bytes: 64 * 1024 };
const THROUGHPUT = { count: 3, bytes: 32 * 1024 * 1024 };

interface Measured {
  firstByte: number[];
  total: number[];
  bytes: number[];
}

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

/**
 * The relay's own work per byte of a stream, in one process (MB/s, median of 3): the bytes cut into
 * chunks of one publish, each sealed as a `stream-chunk` message and opened again — no broker, sockets
 * or threads. Chunks are not compressed (local mode's session does not deflate them).
 */
function sealedInOneProcess(): number {
  const key = generateKey();
  const topic = "pulumi-live/local/bench/local/stream/res/stream/bench";
  const size = maxStreamChunkBytes(topic);
  const data = Buffer.alloc(size, 120);
  const rates: number[] = [];
  for (let run = 0; run < 3; run++) {
    const reader = new Reassembler(key);
    const started = performance.now();
    let opened = 0;
    for (let seq = 1; opened < THROUGHPUT.bytes; seq++) {
      const message = { type: "stream-chunk" as const, requestId: "bench", seq, data };
      for (const frame of encodeMessage(key, topic, message, { compress: false })) {
        const out = reader.push(topic, frame);
        if (out?.type === "stream-chunk") opened += out.data.length;
      }
    }
    rates.push(opened / 1048576 / ((performance.now() - started) / 1000));
  }
  return percentile(rates, 50);
}

async function build(dir: string): Promise<{ builder: FunctionBuilder; file: string }> {
  const builder = new FunctionBuilder({
    name: "stream",
    entry: path.join(dir, "src/stream.ts"),
    exportName: "handler",
    outDir: path.join(dir, ".pulumi-live/build/bench-stream"),
    watch: false,
    cwd: dir,
  });
  const built = await builder.start();
  if (!built.ok) throw new Error(built.error);
  return { builder, file: built.file };
}

/** The baseline: the bundled handler called as Lambda's runtime calls it, its stream going to a sink. */
async function inOneProcess(dir: string): Promise<{ first: Measured; big: Measured }> {
  const { builder, file } = await build(dir);
  installAwsLambdaGlobal();
  const handler = (require(file) as { handler: LambdaHandler }).handler;
  await builder.dispose();
  const run = async ({ count, bytes }: { count: number; bytes: number }): Promise<Measured> => {
    const out: Measured = { firstByte: [], total: [], bytes: [] };
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      let first = NaN;
      let size = 0;
      const completion = await invokeStreamingHandler(handler, { bytes }, context(), {
        deadline: Date.now() + 120_000,
        sink: {
          start: ignore,
          write: (chunk, done) => {
            if (Number.isNaN(first)) first = performance.now() - started;
            size += chunk.length;
            done();
          },
        },
      });
      if (!completion.ok) throw completion.error;
      out.total.push(performance.now() - started);
      out.firstByte.push(first);
      out.bytes.push(size);
    }
    return out;
  };
  await run({ count: 3, bytes: FIRST_BYTE.bytes }); // warm-up: JIT
  return { first: await run(FIRST_BYTE), big: await run(THROUGHPUT) };
}

function context() {
  return {
    awsRequestId: randomUUID(),
    functionName: "stream",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:stream",
    memoryLimitInMB: "128",
    logGroupName: "/aws/lambda/stream",
    logStreamName: "bench",
  };
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
