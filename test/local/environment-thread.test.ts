/**
 * What running local Lambda environments as worker threads of serve's process must not change: each
 * has its own `process.env`, a timed-out one is ended and replaced, and nothing one does (exit, an
 * uncaught error, running out of memory) reaches serve or another environment. Also which functions
 * must keep processes (`environmentKind`).
 */
import test, { type ExecutionContext } from "ava";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { threadId } from "node:worker_threads";
import { LocalFunction, type LocalFunctionOptions } from "../../cli/local/environments";
import { localFunctionOf } from "../helpers/local-function";
import { environmentKind } from "../../cli/local/environment-kind";

const HANDLER = `
const { threadId } = require("node:worker_threads");
let invocations = 0;
exports.handler = async (event) => {
  invocations++;
  switch (event.action) {
    case "set":
      process.env.SHARED = event.value;
      return { threadId, shared: process.env.SHARED };
    case "get":
      return { threadId, shared: process.env.SHARED ?? null, invocations };
    case "wait":
      // Holds its environment until the other has answered: two environments at once.
      await new Promise((resolve) => setTimeout(resolve, event.ms));
      return { threadId, shared: process.env.SHARED ?? null };
    case "hang":
      return new Promise(() => setInterval(() => {}, 1000));
    case "throw-later":
      // An error thrown outside any invocation's promise, after the answer.
      setTimeout(() => { throw new Error("from a timer"); }, 10);
      return { threadId };
    case "grow": {
      const kept = [];
      for (;;) kept.push(new Array(100000).fill({ n: kept.length }));
    }
    default:
      return { threadId, invocations };
  }
};
`;

async function localFunction(
  t: ExecutionContext,
  options: Partial<LocalFunctionOptions> = {},
): Promise<LocalFunction> {
  return localFunctionOf(t, HANDLER, options);
}

async function call(fn: LocalFunction, event: unknown): Promise<any> {
  const result = await fn.invoke(Buffer.from(JSON.stringify(event)), { tail: false });
  return JSON.parse(result.payload.toString("utf8"));
}

test("environments are threads of this process unless the function needs a process", (t) => {
  t.is(environmentKind({}), "thread");
  t.is(environmentKind({ EXTRA: "x", PULUMI_LIVE_KEY: "k" }), "thread");
  for (const name of ["NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "NODE_ICU_DATA", "UV_THREADPOOL_SIZE", "TZ"])
    t.is(environmentKind({ [name]: "x" }), "process", name);
  t.is(environmentKind({}, true), "process", "serve's process is being debugged");
  t.is(new LocalFunction({ name: "a", handlerFile: "/x.js", handlerExport: "h" }).kind, "thread");
  const ca = new LocalFunction({
    name: "a",
    handlerFile: "/x.js",
    handlerExport: "h",
    environment: { NODE_EXTRA_CA_CERTS: "/ca.pem" },
  });
  t.is(ca.kind, "process");
});

test("a thread environment's process.env is its own: not seen by another environment or by serve", async (t) => {
  const fn = await localFunction(t, { environment: { SHARED: "initial" } });
  // Two at once: the first sets the variable while the second is busy in another environment.
  const [other, set] = await Promise.all([
    call(fn, { action: "wait", ms: 300 }),
    call(fn, { action: "set", value: "changed" }),
  ]);
  t.is(fn.environmentCount, 2);
  t.not(other.threadId, set.threadId);
  t.not(other.threadId, threadId, "the environment runs in a thread of its own");
  t.is(set.shared, "changed");
  t.is(other.shared, "initial");
  t.is(process.env.SHARED, undefined);
  t.is(process.env.AWS_LAMBDA_FUNCTION_NAME, undefined);
  // The environment that set it keeps it (warm reuse); the other still has the function's value.
  const after = await Promise.all([
    call(fn, { action: "wait", ms: 300 }),
    call(fn, { action: "wait", ms: 300 }),
  ]);
  t.deepEqual(after.map((a) => a.shared).sort(), ["changed", "initial"]);
});

test("a thread environment is terminated at the deadline and the next invocation gets a fresh one", async (t) => {
  const fn = await localFunction(t, { timeoutSeconds: 0.3 });
  const warm = await call(fn, {});
  t.is(warm.invocations, 1);
  const result = await fn.invoke(Buffer.from(JSON.stringify({ action: "hang" })), {
    tail: false,
    requestId: "r",
  });
  t.is(result.functionError, "Unhandled");
  t.is(JSON.parse(result.payload.toString()).errorType, "Sandbox.Timedout");
  // A fresh environment: another thread, its module loaded again (the count starts over).
  const next = await call(fn, {});
  t.not(next.threadId, warm.threadId);
  t.is(next.invocations, 1);
  t.is(fn.environmentCount, 1);
});

test("an error thrown between invocations ends only its environment; serve and the others go on", async (t) => {
  let logged: () => void = () => undefined;
  const thrown = new Promise<void>((resolve) => (logged = resolve));
  const fn = await localFunction(t, { onLog: (_name, line) => line.includes("from a timer") && logged() });
  const [first, second] = await Promise.all([call(fn, { action: "wait", ms: 200 }), call(fn, {})]);
  t.not(first.threadId, second.threadId);
  const thrower = await call(fn, { action: "throw-later" });
  await thrown;
  // The environment ends on the error, as Lambda resets one; an invocation that reaches it while it is
  // ending fails with Runtime.ExitError. Within a few rounds both answer from live environments.
  let answers: any[] = [];
  for (let round = 0; round < 20; round++) {
    answers = await Promise.all([call(fn, { action: "wait", ms: 50 }), call(fn, { action: "wait", ms: 50 })]);
    if (answers.every((a) => a.threadId !== undefined && a.threadId !== thrower.threadId)) break;
  }
  t.true(
    answers.every((a) => a.threadId !== undefined && a.threadId !== thrower.threadId),
    JSON.stringify(answers),
  );
  // The other environment was not touched: it is still the warm one serving.
  t.true(answers.some((a) => [first.threadId, second.threadId].includes(a.threadId)));
  t.is(fn.environmentCount, 2);
});

test("process.exit in a thread environment fails its invocation and leaves serve running", async (t) => {
  const fn = await localFunction(t);
  const exitSource = `exports.handler = async () => process.exit(7);`;
  const dir = await mkdtemp(join(tmpdir(), "pulumi-live-thread-exit-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "exit.js"), exitSource);
  const exits = new LocalFunction({
    name: "exits",
    handlerFile: join(dir, "exit.js"),
    handlerExport: "handler",
  });
  t.teardown(() => exits.close());
  const result = await exits.invoke(Buffer.from("{}"), { tail: false, requestId: "req-7" });
  t.deepEqual(JSON.parse(result.payload.toString()), {
    errorType: "Runtime.ExitError",
    errorMessage: "RequestId: req-7 Error: Runtime exited with error: exit status 7",
    trace: [],
  });
  // This process is alive to check, and another function's environment still answers.
  t.is((await call(fn, {})).invocations, 1);
});

test("a thread environment over its memory size fails with Runtime.OutOfMemory and is replaced", async (t) => {
  const fn = await localFunction(t, { memoryMB: 32, timeoutSeconds: 30 });
  const result = await fn.invoke(Buffer.from(JSON.stringify({ action: "grow" })), {
    tail: false,
    requestId: "big",
  });
  t.is(result.functionError, "Unhandled");
  t.is(JSON.parse(result.payload.toString()).errorType, "Runtime.OutOfMemory");
  t.is((await call(fn, {})).invocations, 1);
});
