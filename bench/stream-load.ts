import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { createRelay } from "../stub/relay";
import type { ResponseStreamLike } from "../stub/exchange";
import type { StubConfig } from "../stub/config";
import type { LambdaContext } from "../stub/lambda-context";
import type { LoadConfig } from "./stub-load";

/**
 * The stub side of the stream benchmark, in its own process as the stub is in Lambda: one streaming
 * relay, whose response stream counts the bytes and notes when the first came.
 */
export type StreamLoadCommand = { type: "stream"; count: number; bytes: number } | { type: "close" };

/** Per stream: ms from the call to its first byte, and to its end. */
export interface StreamLoadReply {
  firstByte: number[];
  total: number[];
  bytes: number[];
}

function context(name: string): LambdaContext {
  const deadline = Date.now() + 120_000;
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

/** A response stream that takes every write at once, as a fast caller would. */
function countingStream(started: number) {
  const seen = { first: NaN, bytes: 0 };
  const stream: ResponseStreamLike = {
    setContentType: () => undefined,
    write: (chunk, done) => {
      if (Number.isNaN(seen.first)) seen.first = performance.now() - started;
      seen.bytes += chunk.length;
      done();
      return true;
    },
    end: (done) => done?.(),
    on: () => stream,
    removeListener: () => stream,
  };
  return { stream, seen };
}

function main(): void {
  const config = JSON.parse(process.env.PULUMI_LIVE_BENCH_CONFIG!) as LoadConfig;
  const stub: StubConfig = { ...config, key: Buffer.from(config.key, "base64") };
  const relay = createRelay(stub, { envId: "benchstream", log: () => undefined });
  const run = async (command: StreamLoadCommand) => {
    if (command.type === "close") {
      await relay.close();
      process.exit(0);
    }
    const reply: StreamLoadReply = { firstByte: [], total: [], bytes: [] };
    for (let i = 0; i < command.count; i++) {
      const started = performance.now();
      const { stream, seen } = countingStream(started);
      await relay.handleStream({ bytes: command.bytes }, stream, context(stub.functionId));
      reply.total.push(performance.now() - started);
      reply.firstByte.push(seen.first);
      reply.bytes.push(seen.bytes);
    }
    process.send!(reply);
  };
  process.on(
    "message",
    (command: StreamLoadCommand) =>
      void run(command).catch((error: unknown) => {
        process.stderr.write(`stream load failed: ${error instanceof Error ? error.stack : String(error)}\n`);
        process.exit(1);
      }),
  );
  process.send!({ ready: true });
}

main();
