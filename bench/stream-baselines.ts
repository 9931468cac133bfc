/** The stream benchmark's same-run baselines, and what its measurements share. */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Reassembler, encodeMessage, generateKey, maxStreamChunkBytes } from "../protocol";
import { FunctionBuilder } from "../cli/runtime/builder";
import { installAwsLambdaGlobal } from "../core/awslambda";
import { invokeStreamingHandler } from "../core/lambda-streaming";
import type { LambdaHandler } from "../core/lambda-runtime";
import { percentile } from "./stats";

/** Streams for the time to first byte (small), and for throughput (large). */
export const FIRST_BYTE = { count: 20, bytes: 64 * 1024 };
export const THROUGHPUT = { count: 3, bytes: 32 * 1024 * 1024 };

export interface Measured {
  firstByte: number[];
  total: number[];
  bytes: number[];
}

const ignore = (): void => undefined;

/**
 * The relay's own work per byte of a stream, in one process (MB/s, median of 3): the bytes cut into
 * chunks of one publish, each sealed as a `stream-chunk` message and opened again — no broker, sockets
 * or threads. Chunks are not compressed (local mode's session does not deflate them).
 */
export function sealedInOneProcess(): number {
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

export async function build(dir: string): Promise<{ builder: FunctionBuilder; file: string }> {
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
export async function inOneProcess(dir: string): Promise<{ first: Measured; big: Measured }> {
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
