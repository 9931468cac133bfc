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
import { loadFallback, runHandler } from "../../stub/fallback";
import { FILES, ROWS, type Row } from "./lambda-runtime-table";

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
