/**
 * One table of Lambda's runtime behaviour (`lambda-runtime-table.ts`), run through each of the three
 * places pulumi-live runs a handler: a worker thread of `serve`, a local Lambda-like host process, and
 * the deployed stub's fallback. Each must answer as Lambda does.
 */
import { mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import test, { type ExecutionContext } from "ava";
import { LocalFunction } from "../../cli/local/environments";
import { WorkerPool } from "../../cli/runtime/worker-pool";
import { moduleFormat } from "../../core/handler";
import { settle, type Settled } from "../../core/lambda-runtime";
import { localEnvironment } from "../../core/local-environment";
import { Writable } from "node:stream";
import { handlerError } from "../../core/lambda-runtime";
import type { LambdaError } from "../../core/lambda-error";
import type { StreamConsumer } from "../../core/stream-channel";
import { loadFallback, runHandler, runStreamingFallback } from "../../stub/fallback";
import { FILES, ROWS, STREAM_ROWS, type Row, type StreamRow } from "./lambda-runtime-table";

let dir: string;
let pool: WorkerPool;
const hosts: LocalFunction[] = [];

test.before(async () => {
  dir = await realpath(await mkdtemp(path.join(tmpdir(), "pulumi-live-runtime-table-")));
  for (const [name, text] of Object.entries(FILES)) await writeFile(path.join(dir, name), text);
  pool = new WorkerPool({ concurrency: 4 });
});
test.after.always(async () => {
  await Promise.allSettled([pool.close(), ...hosts.map((host) => host.close())]);
  await rm(dir, { recursive: true, force: true });
});

interface Answer {
  settled: Settled;
  logs: string;
}

const EVENT = { n: 1 };
let counter = 0;

function context(requestId: string) {
  return {
    awsRequestId: requestId,
    functionName: "table",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:table",
    memoryLimitInMB: "128",
    logGroupName: "/aws/lambda/table",
    logStreamName: "2026/01/01/[$LATEST]0123",
  };
}

const emulations: Record<string, (row: Row) => Promise<Answer>> = {
  async worker(row) {
    const file = path.join(dir, row.file ?? "handlers.js");
    const id = `worker-${++counter}`;
    const outcome = await pool.invoke({
      functionName: "table",
      envId: id,
      build: {
        ok: true,
        version: 1,
        file,
        format: moduleFormat(file),
        entry: file,
        durationMs: 0,
        inputs: [],
      },
      exportName: row.handler,
      event: EVENT,
      context: context(id),
      deadline: Date.now() + 10_000,
      environment: localEnvironment({ PATH: process.env.PATH }, {}),
    });
    const settled: Settled = outcome.ok
      ? { ok: true, json: JSON.stringify(outcome.result) }
      : { ok: false, error: outcome.error };
    return { settled, logs: outcome.logs };
  },
  async host(row) {
    const host = new LocalFunction({
      name: "table",
      handlerFile: path.join(dir, row.file ?? "handlers.js"),
      handlerExport: row.handler,
      timeoutSeconds: 10,
    });
    hosts.push(host);
    const result = await host.invoke(Buffer.from(JSON.stringify(EVENT)), { tail: true });
    void host.close();
    const payload = result.payload.toString("utf8");
    const settled: Settled = result.functionError
      ? { ok: false, error: JSON.parse(payload) }
      : { ok: true, json: payload };
    return { settled, logs: result.logTail ?? "" };
  },
  async fallback(row) {
    const module = (row.file ?? "handlers.js").replace(/\.m?js$/, "");
    const id = `fallback-${++counter}`;
    // What Lambda's own runtime reports for what the stub answers or throws.
    try {
      const handler = await loadFallback(dir, `${module}.${row.handler}`);
      const result = await runHandler(handler, EVENT, {
        ...context(id),
        getRemainingTimeInMillis: () => 10_000,
      });
      return { settled: settle({ ok: true, result }), logs: "" };
    } catch (error) {
      return { settled: settle({ ok: false, error }), logs: "" };
    }
  },
};

function check(t: ExecutionContext, row: Row, answer: Answer, withLogs: boolean): void {
  const { expected } = row;
  const { settled } = answer;
  if ("result" in expected) {
    if (!settled.ok) return void t.fail(`expected a result, got ${JSON.stringify(settled.error)}`);
    t.deepEqual(JSON.parse(settled.json), expected.result);
  } else {
    if (settled.ok) return void t.fail(`expected ${expected.errorType}, got the result ${settled.json}`);
    t.is(settled.error.errorType, expected.errorType);
    if (typeof expected.errorMessage === "string") t.is(settled.error.errorMessage, expected.errorMessage);
    else t.regex(settled.error.errorMessage, expected.errorMessage);
    if (expected.trace) t.deepEqual(settled.error.trace, expected.trace);
    if (expected.traceStart) t.is(settled.error.trace[0], expected.traceStart);
  }
  if (!withLogs) return;
  if (row.logs?.includes) t.true(answer.logs.includes(row.logs.includes), answer.logs);
  if (row.logs?.excludes) t.false(answer.logs.includes(row.logs.excludes), answer.logs);
}

for (const [emulation, run] of Object.entries(emulations)) {
  for (const row of ROWS) {
    // The fallback's own limits: see Row.eventLoop and Row.notFallback.
    if (emulation === "fallback" && (row.eventLoop || row.notFallback)) continue;
    // Log lines are checked where they are captured per invocation (the fallback's go to Lambda's log).
    const withLogs = emulation !== "fallback";
    test(`${emulation}: ${row.name}`, async (t) => check(t, row, await run(row), withLogs));
  }
}

/** What a streamed invocation gave: the content type, the bytes, and the error if it failed. */
interface StreamAnswer {
  contentType?: string;
  body: Buffer;
  error?: LambdaError;
  logs?: string;
}

function collector(): { consumer: StreamConsumer; answer: () => Pick<StreamAnswer, "contentType" | "body"> } {
  let contentType: string | undefined;
  const parts: Buffer[] = [];
  return {
    consumer: {
      start: (type) => (contentType = type),
      write: async (data) => void parts.push(Buffer.from(data)),
    },
    answer: () => ({ contentType, body: Buffer.concat(parts) }),
  };
}

const streamEmulations: Record<string, (row: StreamRow) => Promise<StreamAnswer>> = {
  async worker(row) {
    const file = path.join(dir, "streaming.js");
    const id = `worker-${++counter}`;
    const { consumer, answer } = collector();
    const outcome = await pool.invoke({
      functionName: "table",
      envId: id,
      build: { ok: true, version: 1, file, format: "cjs", entry: file, durationMs: 0, inputs: [] },
      exportName: row.handler,
      event: EVENT,
      context: context(id),
      deadline: Date.now() + 10_000,
      environment: localEnvironment({ PATH: process.env.PATH }, {}),
      stream: consumer,
    });
    return { ...answer(), logs: outcome.logs, ...(outcome.ok ? {} : { error: outcome.error }) };
  },
  async host(row) {
    const host = new LocalFunction({
      name: "table",
      handlerFile: path.join(dir, "streaming.js"),
      handlerExport: row.handler,
      timeoutSeconds: 10,
    });
    hosts.push(host);
    const { consumer, answer } = collector();
    const result = await host.invoke(Buffer.from(JSON.stringify(EVENT)), { tail: true, stream: consumer });
    void host.close();
    const error = result.functionError ? (JSON.parse(result.payload.toString()) as LambdaError) : undefined;
    return { ...answer(), logs: result.logTail ?? "", ...(error ? { error } : {}) };
  },
  async fallback(row) {
    const handler = await loadFallback(dir, `streaming.${row.handler}`);
    let contentType: string | undefined;
    const parts: Buffer[] = [];
    const stream = Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          parts.push(chunk);
          done();
        },
      }),
      { setContentType: (type: string) => (contentType = type) },
    );
    try {
      await runStreamingFallback(handler, EVENT, stream, {
        ...context(`fallback-${++counter}`),
        getRemainingTimeInMillis: () => 10_000,
      });
      return { contentType, body: Buffer.concat(parts) };
    } catch (error) {
      return { contentType, body: Buffer.concat(parts), error: handlerError(error) };
    }
  },
};

for (const [emulation, run] of Object.entries(streamEmulations)) {
  for (const row of STREAM_ROWS) {
    test(`${emulation}, streaming: ${row.name}`, async (t) => {
      const answer = await run(row);
      const { expected } = row;
      t.is(answer.contentType, expected.contentType);
      t.is(answer.body.toString("latin1"), expected.body.toString("latin1"));
      if (expected.error) {
        t.is(answer.error?.errorType, expected.error.errorType);
        t.is(answer.error?.errorMessage, expected.error.errorMessage);
      } else t.is(answer.error, undefined, JSON.stringify(answer.error));
      // The fallback's lines go to Lambda's own log.
      if (expected.logs && emulation !== "fallback")
        t.true(answer.logs!.includes(expected.logs), answer.logs);
    });
  }
}

test("worker, streaming: a caller that takes no stream gets the error that says to declare it", async (t) => {
  const file = path.join(dir, "streaming.js");
  const outcome = await pool.invoke({
    functionName: "table",
    envId: `worker-${++counter}`,
    build: { ok: true, version: 1, file, format: "cjs", entry: file, durationMs: 0, inputs: [] },
    exportName: "writes",
    event: EVENT,
    context: context("undeclared"),
    deadline: Date.now() + 10_000,
    environment: localEnvironment({ PATH: process.env.PATH }, {}),
  });
  t.false(outcome.ok);
  if (!outcome.ok) {
    t.is(outcome.error.errorType, "PulumiLive.StreamingNotDeclared");
    t.regex(outcome.error.errorMessage, /set `streaming: true` on its LiveFunction/);
  }
});

test("host, streaming: a caller that takes no stream gets the bytes gathered, as Lambda's Invoke API", async (t) => {
  const host = new LocalFunction({
    name: "table",
    handlerFile: path.join(dir, "streaming.js"),
    handlerExport: "http",
    timeoutSeconds: 10,
  });
  hosts.push(host);
  const result = await host.invoke(Buffer.from("{}"), { tail: false });
  void host.close();
  t.is(result.functionError, undefined);
  t.is(result.contentType, "application/vnd.awslambda.http-integration-response");
  t.is(result.payload.toString("latin1"), `{"statusCode":201,"headers":{"x-a":"b"}}${"\0".repeat(8)}hello`);
});
