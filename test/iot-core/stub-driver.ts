/**
 * Relay stubs of one function in a process of their own, driving invocations at a fixed rate through an
 * AWS IoT Core stand-in: `fork(stub-driver.js)` with NODE_EXTRA_CA_CERTS naming the stand-in's CA (the
 * stubs' WebSocket trusts it only that way, as in a Lambda-like host). Load tests and benchmarks use it:
 * the relays are the deployed stub's own code (createRelay), each its own connection and client id.
 */
import { fork } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { DEFAULT_ACK_TIMEOUT_MS } from "../../stub/config";
import { createRelay, type Relay } from "../../stub/relay";

export interface DriverConfig {
  /** The stub's settings, as the function's environment gives them. */
  stub: { prefix: string; functionId: string; key: string; clientPrefix: string; stack: string };
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Execution environments (relays, one connection each); each runs one invocation at a time. */
  relays: number;
  /** More variables of the function's environment (the handler sees them). */
  environment?: Record<string, string>;
}

export interface Load {
  /** Invocations started per second (open loop: they start on schedule whatever the answers). */
  rate: number;
  count: number;
  /** The event: `{ id, pad }` with `pad` this many characters, plus `extra`. */
  padBytes?: number;
  /** `pad` of random base64 (compresses to about 3/4) instead of one repeated letter (to almost nothing). */
  padRandom?: boolean;
  extra?: Record<string, unknown>;
  timeoutMs: number;
  /** Call the relay as a streaming stub (`handleStream`): the outcome's result is what it wrote. */
  stream?: boolean;
}

/** What a streaming stub's response stream received. */
export interface Streamed {
  contentType?: string;
  /** Every byte written, base64. */
  body: string;
  /** ms from the invocation's scheduled start to its first byte. */
  firstByteMs?: number;
}

export interface Outcome {
  id: string;
  ok: boolean;
  /** From the invocation's scheduled start to its answer. */
  ms: number;
  result?: unknown;
  error?: string;
}

type Request = { type: "load"; load: Load } | { type: "close" };
type Reply = { type: "ready" } | { type: "done"; outcomes: Outcome[] } | { type: "failed"; error: string };

/** Starts the driver process; resolves once every relay is connected and knows the session's presence. */
export async function startStubDriver(config: DriverConfig, caFile: string) {
  const child = fork(__filename, [JSON.stringify(config)], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const replies: Reply[] = [];
  const waiting: ((reply: Reply) => void)[] = [];
  child.on("message", (reply: Reply) => {
    const next = waiting.shift();
    if (next) next(reply);
    else replies.push(reply);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const receive = () =>
    new Promise<Reply>((resolve, reject) => {
      const queued = replies.shift();
      if (queued) return resolve(queued);
      waiting.push(resolve);
      void exited.then((code) => reject(new Error(`the stub driver exited with ${code}`)));
    });
  const ready = await receive();
  if (ready.type !== "ready") throw new Error(`stub driver: ${JSON.stringify(ready)}`);
  return {
    /** Runs a load; resolves with every invocation's outcome. */
    run: async (load: Load): Promise<Outcome[]> => {
      child.send({ type: "load", load } satisfies Request);
      const reply = await receive();
      if (reply.type !== "done") throw new Error(`stub driver: ${JSON.stringify(reply)}`);
      return reply.outcomes;
    },
    close: async () => {
      if (child.exitCode !== null) return;
      child.send({ type: "close" } satisfies Request);
      await exited;
    },
  };
}

/** The child: relays, then loads on request. */
async function driver(config: DriverConfig): Promise<void> {
  const env = {
    AWS_ACCESS_KEY_ID: config.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: config.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: config.credentials.sessionToken ?? "",
    AWS_REGION: config.region,
    ...config.environment,
  };
  const relays: Relay[] = Array.from({ length: config.relays }, () =>
    createRelay(
      {
        ...config.stub,
        key: Buffer.from(config.stub.key, "base64"),
        broker: { kind: "iot", endpoint: config.endpoint, region: config.region },
        ackTimeoutMs: DEFAULT_ACK_TIMEOUT_MS,
      },
      { env, log: () => undefined, connectTimeoutMs: 20_000 },
    ),
  );
  await Promise.all(relays.map((r) => r.connection.whenReady(30_000)));
  process.send!({ type: "ready" } satisfies Reply);
  process.on("message", (request: Request) => {
    if (request.type === "close") {
      void Promise.allSettled(relays.map((r) => r.close())).then(() => process.exit(0));
      return;
    }
    runLoad(relays, request.load).then(
      (outcomes) => process.send!({ type: "done", outcomes } satisfies Reply),
      (error: Error) =>
        process.send!({ type: "failed", error: String(error?.stack ?? error) } satisfies Reply),
    );
  });
}

function runLoad(relays: Relay[], load: Load): Promise<Outcome[]> {
  const idle = [...relays];
  const queue: (() => void)[] = [];
  const pad = load.padRandom
    ? randomBytes(Math.ceil(((load.padBytes ?? 0) * 3) / 4))
        .toString("base64")
        .slice(0, load.padBytes)
    : "x".repeat(load.padBytes ?? 0);
  const start = Date.now();
  const invocations = Array.from({ length: load.count }, (_, i) =>
    new Promise<void>((resolve) =>
      setTimeout(resolve, Math.max(0, start + (i * 1000) / load.rate - Date.now())),
    ).then(async (): Promise<Outcome> => {
      const scheduled = start + (i * 1000) / load.rate;
      const id = `${i}-${randomUUID()}`;
      const relay =
        idle.pop() ?? (await new Promise<Relay>((resolve) => queue.push(() => resolve(idle.pop()!))));
      try {
        const context = {
          awsRequestId: id,
          functionName: "driver",
          functionVersion: "$LATEST",
          invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:driver",
          memoryLimitInMB: "128",
          logGroupName: "/aws/lambda/driver",
          logStreamName: "driver",
          getRemainingTimeInMillis: () => scheduled + load.timeoutMs - Date.now(),
        };
        const event = { id, pad, ...load.extra };
        const result = load.stream
          ? await streamFrom(relay, event, context, scheduled)
          : await relay.handle(event, context);
        return { id, ok: true, ms: Date.now() - scheduled, result };
      } catch (error) {
        return {
          id,
          ok: false,
          ms: Date.now() - scheduled,
          error: `${(error as Error).name}: ${(error as Error).message}`,
        };
      } finally {
        idle.push(relay);
        queue.shift()?.();
      }
    }),
  );
  return Promise.all(invocations);
}

/** Calls a streaming stub with a response stream that keeps what it is given. */
async function streamFrom(
  relay: Relay,
  event: unknown,
  context: Parameters<Relay["handle"]>[1],
  scheduled: number,
): Promise<Streamed> {
  const parts: Buffer[] = [];
  const out: Streamed = { body: "" };
  const stream: Parameters<Relay["handleStream"]>[1] = {
    setContentType: (type) => void (out.contentType = type),
    write: (chunk, done) => {
      out.firstByteMs ??= Date.now() - scheduled;
      parts.push(Buffer.from(chunk));
      done();
      return true;
    },
    end: (done) => done?.(),
    on: () => stream,
    removeListener: () => stream,
  };
  await relay.handleStream(event, stream, context);
  out.body = Buffer.concat(parts).toString("base64");
  return out;
}

if (require.main === module) {
  driver(JSON.parse(process.argv[2]) as DriverConfig).catch((error: Error) => {
    process.send?.({ type: "failed", error: String(error?.stack ?? error) } satisfies Reply);
    process.exit(1);
  });
}
