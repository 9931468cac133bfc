import { devNull } from "node:os";
import path from "node:path";
import test from "ava";
import { FunctionBuilder, type GoodBuild } from "../../cli/runtime/builder";
import { WorkerPool, type InvokeRequest, type LogEvent } from "../../cli/runtime/worker-pool";
import { localEnvironment } from "../../core/local-environment";
import { MAX_RESPONSE_PAYLOAD_BYTES } from "../../protocol/limits";
import { tempProject, type TempProject } from "./temp-project";
import { responseTooLargeError } from "../../core/lambda-error";

const HANDLERS = [
  "const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));",
  "export const echo = async (event: unknown) => ({ echo: event, pid: process.pid, threadId: require('node:worker_threads').threadId });",
  "export const callback = (event: { n: number }, _context: unknown, cb: (e: unknown, r?: unknown) => void) => {",
  "  setTimeout(() => (event.n < 0 ? cb(new TypeError(`negative ${event.n}`)) : cb(null, { doubled: event.n * 2 })), 1);",
  "};",
  "export const context = async (_event: unknown, ctx: any) => ({",
  "  ...ctx,",
  "  remaining: ctx.getRemainingTimeInMillis(),",
  "  functions: [typeof ctx.done, typeof ctx.succeed, typeof ctx.fail, typeof ctx.getRemainingTimeInMillis],",
  "});",
  "export const succeed = (_event: unknown, ctx: any) => ctx.succeed('by succeed');",
  "export const done = (_event: unknown, ctx: any) => ctx.done(null, 'by done');",
  "export const fail = (_event: unknown, ctx: any) => ctx.fail(new RangeError('by fail'));",
  "export const env = async () => Object.fromEntries(Object.entries(process.env).sort());",
  "export const slow = async (event: { ms: number; tag: string }) => {",
  "  await sleep(event.ms);",
  "  return event.tag;",
  "};",
  "export const loop = () => {",
  "  for (;;);",
  "};",
  "export const exit = () => process.exit(3);",
  "export const reject = () => {",
  "  void Promise.reject(new Error('nobody catches this'));",
  "  return new Promise(() => undefined);",
  "};",
  "export const big = async () => 'x'.repeat(" + String(MAX_RESPONSE_PAYLOAD_BYTES) + ");",
  "export const logs = async (event: { id: string }) => {",
  "  console.log(`start ${event.id}`);",
  "  console.error(`warn ${event.id}`);",
  "  process.stdout.write(`no newline ${event.id}`);",
  "  return event.id;",
  "};",
  "export const throws = async () => {",
  "  throw new RangeError('out of range');",
  "};",
  "export const notAFunction = 42;",
  "export const hog = async (event: { mb: number }) => {",
  "  const hold: number[][] = [];",
  "  for (let i = 0; i < event.mb; i++) hold.push(new Array(131072).fill(i));",
  "  return hold.length;",
  "};",
  "export const plain = (event: { n: number }, _context: unknown) => ({ ignored: event.n });",
  "export const plainThrows = () => {",
  "  throw new TypeError('thrown before returning');",
  "};",
];
const THROW_LINE = HANDLERS.findIndex((line) => line.includes("out of range")) + 1;

let project: TempProject;
let pool: WorkerPool;
const logLines: LogEvent[] = [];
const builds: Record<string, GoodBuild> = {};
const builders: FunctionBuilder[] = [];

async function build(entry: string): Promise<GoodBuild> {
  const builder = new FunctionBuilder({
    name: entry,
    entry: project.path(entry),
    exportName: "handler",
    outDir: project.path(`.pulumi-live/build/${entry.replace(/\W/g, "-")}`),
    watch: false,
    cwd: project.root,
  });
  builders.push(builder);
  const result = await builder.start();
  if (!result.ok) throw new Error(result.error);
  return result;
}

test.before(async () => {
  project = await tempProject({
    "src/handlers.ts": HANDLERS.join("\n") + "\n",
    "src/import-throws.ts":
      "class ConfigError extends Error {\n  override name = 'ConfigError';\n}\n" +
      "throw new ConfigError('TABLE_NAME is not set');\nexport const handler = async () => 1;\n",
    "src/missing-package.ts": "import 'not-installed-anywhere';\nexport const handler = async () => 1;\n",
    "src/esm.mts":
      "const loaded = await Promise.resolve('after top-level await');\n" +
      "export const handler = async () => `${loaded} ${typeof require}`;\n",
    "src/syntax.cjs": "new Function('return (');\nexports.handler = async () => 1;\n",
    "src/version.ts":
      "export const handler = async (e: { ms: number }) => {\n  await new Promise((r) => setTimeout(r, e.ms));\n  return 'v1';\n};\n",
  });
  for (const entry of [
    "src/handlers.ts",
    "src/esm.mts",
    "src/import-throws.ts",
    "src/missing-package.ts",
    "src/syntax.cjs",
  ]) {
    builds[entry] = await build(entry);
  }
  pool = new WorkerPool({ concurrency: 4, onLog: (line) => logLines.push(line) });
});
test.after.always(async () => {
  await pool.close();
  await Promise.allSettled(builders.map((b) => b.dispose()));
  await project.remove();
});

let counter = 0;
/** A request for `exportName` of handlers.ts; a fresh envId unless one is given. */
function request(exportName: string, more: Partial<InvokeRequest> = {}): InvokeRequest {
  const requestId = `req-${++counter}`;
  return {
    functionName: "handlers",
    envId: `env-${counter}`,
    build: builds["src/handlers.ts"],
    exportName,
    event: {},
    context: {
      awsRequestId: requestId,
      functionName: "handlers-fn",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:handlers-fn",
      memoryLimitInMB: "256",
      logGroupName: "/aws/lambda/handlers-fn",
      logStreamName: "2026/01/01/[$LATEST]abc",
    },
    deadline: Date.now() + 10_000,
    environment: localEnvironment({ PATH: process.env.PATH }, { TABLE: "orders" }),
    ...more,
  };
}

test.serial("an async handler's result; the environment's worker is reused while warm", async (t) => {
  const first = request("echo", { event: { a: 1 } });
  const cold = await pool.invoke(first);
  t.like(cold, { ok: true, coldStart: true, logs: "" });
  const warm = await pool.invoke({ ...request("echo", { event: { a: 2 } }), envId: first.envId });
  t.like(warm, { ok: true, coldStart: false });
  const [a, b] = [cold, warm].map((o) =>
    o.ok ? (o.result as { echo: unknown; threadId: number }) : undefined,
  );
  t.deepEqual([a?.echo, b?.echo], [{ a: 1 }, { a: 2 }]);
  t.is(a?.threadId, b?.threadId);
});

test.serial("an ESM handler runs", async (t) => {
  const outcome = await pool.invoke(request("handler", { build: builds["src/esm.mts"] }));
  t.like(outcome, { ok: true, result: "after top-level await function" });
});

test.serial("a callback handler's result and error", async (t) => {
  t.like(await pool.invoke(request("callback", { event: { n: 21 } })), { ok: true, result: { doubled: 42 } });
  const failed = await pool.invoke(request("callback", { event: { n: -1 } }));
  t.like(failed, { ok: false, error: { errorType: "TypeError", errorMessage: "negative -1" } });
});

test.serial(
  "a handler without a callback that returns no promise answers null, as Lambda does",
  async (t) => {
    const { durationMs, ...answered } = await pool.invoke(request("plain", { event: { n: 7 } }));
    t.deepEqual(answered, { ok: true, result: null, logs: "", coldStart: true });
    t.true(durationMs >= 0);
    t.like(await pool.invoke(request("plainThrows")), {
      ok: false,
      error: { errorType: "TypeError", errorMessage: "thrown before returning" },
    });
  },
);

test.serial("context is complete, with identity and clientContext when present", async (t) => {
  const req = request("context", {
    context: {
      ...request("x").context,
      identity: { cognitoIdentityId: "id-1" },
      clientContext: { env: { a: "b" } },
    },
  });
  const before = req.deadline - Date.now();
  const outcome = await pool.invoke(req);
  if (!outcome.ok) return t.fail(JSON.stringify(outcome.error));
  const { remaining, ...rest } = outcome.result as { remaining: number };
  t.deepEqual(rest, {
    ...req.context,
    callbackWaitsForEmptyEventLoop: true,
    functions: ["function", "function", "function", "function"],
  });
  t.true(remaining > 0 && remaining <= before, `remaining ${remaining} of ${before}`);
  const plain = await pool.invoke(request("context"));
  t.false("identity" in (plain.ok ? (plain.result as object) : {}));
});

test.serial("context.succeed, done and fail settle the invocation", async (t) => {
  t.like(await pool.invoke(request("succeed")), { ok: true, result: "by succeed" });
  t.like(await pool.invoke(request("done")), { ok: true, result: "by done" });
  t.like(await pool.invoke(request("fail")), {
    ok: false,
    error: { errorType: "RangeError", errorMessage: "by fail" },
  });
});

test.serial("the worker sees exactly the environment it is given", async (t) => {
  const outcome = await pool.invoke(request("env"));
  t.deepEqual(outcome.ok && outcome.result, {
    AWS_CONFIG_FILE: devNull,
    AWS_SHARED_CREDENTIALS_FILE: devNull,
    IS_LOCAL: "true",
    PATH: process.env.PATH,
    PULUMI_LIVE: "true",
    TABLE: "orders",
  });
});

test.serial("past the deadline: Sandbox.Timedout, and the next call gets a fresh worker", async (t) => {
  for (const exportName of ["slow", "loop"]) {
    const req = request(exportName, { event: { ms: 60_000, tag: "late" }, deadline: Date.now() + 300 });
    const outcome = await pool.invoke(req);
    t.false(outcome.ok);
    if (outcome.ok) return;
    t.is(outcome.error.errorType, "Sandbox.Timedout");
    // The budget is what was left of the 300 ms when the pool took the request: at most 0.30 s, less
    // on a loaded machine, so only its shape and range are pinned.
    const timedOut = new RegExp(
      `^RequestId: ${req.context.awsRequestId} Error: Task timed out after (\\d+\\.\\d\\d) seconds$`,
    );
    const seconds = Number(timedOut.exec(outcome.error.errorMessage)?.[1]);
    t.true(seconds >= 0 && seconds <= 0.3, `message: ${outcome.error.errorMessage}`);
    const next = await pool.invoke({ ...request("slow", { event: { ms: 0, tag: "ok" } }), envId: req.envId });
    t.like(next, { ok: true, result: "ok", coldStart: true });
  }
});

test.serial("process.exit fails with Runtime.ExitError", async (t) => {
  const req = request("exit");
  const outcome = await pool.invoke(req);
  t.deepEqual(outcome.ok ? undefined : outcome.error, {
    errorType: "Runtime.ExitError",
    errorMessage: `RequestId: ${req.context.awsRequestId} Error: Runtime exited with error: exit status 3`,
    trace: [],
  });
  t.like(await pool.invoke({ ...request("echo"), envId: req.envId }), { ok: true, coldStart: true });
});

test.serial(
  "over the function's memory size: Runtime.OutOfMemory, and the next call gets a fresh worker",
  async (t) => {
    const small = request("x").context;
    const req = request("hog", { event: { mb: 400 }, context: { ...small, memoryLimitInMB: "128" } });
    const outcome = await pool.invoke(req);
    t.deepEqual(outcome.ok ? outcome.result : outcome.error, {
      errorType: "Runtime.OutOfMemory",
      errorMessage: `RequestId: ${req.context.awsRequestId} Error: Runtime exited with error: signal: killed`,
      trace: [],
    });
    const next = {
      ...request("echo"),
      envId: req.envId,
      context: { ...req.context, awsRequestId: "after-oom" },
    };
    t.like(await pool.invoke(next), { ok: true, coldStart: true });
    // The bound follows the function's memory size.
    const large = request("hog", { event: { mb: 200 }, context: { ...small, memoryLimitInMB: "1024" } });
    t.like(await pool.invoke(large), { ok: true, result: 200 });
  },
);

test.serial("an unhandled rejection fails with Runtime.UnhandledPromiseRejection", async (t) => {
  const req = request("reject");
  const outcome = await pool.invoke(req);
  t.like(outcome, {
    ok: false,
    error: { errorType: "Runtime.UnhandledPromiseRejection", errorMessage: "Error: nobody catches this" },
  });
  t.like(await pool.invoke({ ...request("echo"), envId: req.envId }), { ok: true, coldStart: true });
});

test.serial(
  "errors at import keep their type; a missing package and a syntax error are Lambda's",
  async (t) => {
    const invoke = (entry: string) => pool.invoke(request("handler", { build: builds[entry] }));
    t.like(await invoke("src/import-throws.ts"), {
      ok: false,
      error: { errorType: "ConfigError", errorMessage: "TABLE_NAME is not set" },
    });
    const missing = await invoke("src/missing-package.ts");
    t.is(missing.ok ? "" : missing.error.errorType, "Runtime.ImportModuleError");
    t.is(
      missing.ok ? "" : missing.error.errorMessage.split("\n")[0],
      "Error: Cannot find module 'not-installed-anywhere'",
    );
    let syntaxMessage = "";
    try {
      // V8's own message for the same syntax error, to compare with the worker's.
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a constant, broken on purpose
      new Function("return (");
    } catch (error) {
      syntaxMessage = `SyntaxError: ${(error as Error).message}`;
    }
    t.like(await invoke("src/syntax.cjs"), {
      ok: false,
      error: { errorType: "Runtime.UserCodeSyntaxError", errorMessage: syntaxMessage },
    });
  },
);

test.serial("a missing export fails with Runtime.HandlerNotFound", async (t) => {
  const module = path.relative(process.cwd(), project.path("src/handlers")).split(path.sep).join("/");
  t.like(await pool.invoke(request("nope")), {
    ok: false,
    error: {
      errorType: "Runtime.HandlerNotFound",
      errorMessage: `${module}.nope is undefined or not exported`,
    },
  });
  t.like(await pool.invoke(request("notAFunction")), {
    ok: false,
    error: { errorType: "Runtime.HandlerNotFound", errorMessage: `${module}.notAFunction is not a function` },
  });
});

test.serial("a thrown error keeps its type and message; its stack names the .ts file and line", async (t) => {
  const outcome = await pool.invoke(request("throws"));
  if (outcome.ok) return t.fail("expected an error");
  t.is(outcome.error.errorType, "RangeError");
  t.is(outcome.error.errorMessage, "out of range");
  t.is(outcome.error.trace[0], "RangeError: out of range");
  t.true(
    outcome.error.trace[1].includes(`${project.path("src/handlers.ts")}:${THROW_LINE}:9`),
    outcome.error.trace.join("\n"),
  );
});

test.serial("a result over Lambda's limit fails as Lambda does", async (t) => {
  const outcome = await pool.invoke(request("big"));
  t.deepEqual(outcome.ok ? undefined : outcome.error, responseTooLargeError(MAX_RESPONSE_PAYLOAD_BYTES + 2));
});

test.serial("each invocation gets its own log lines; onLog streams them", async (t) => {
  const first = request("logs", { event: { id: "one" } });
  const second = { ...request("logs", { event: { id: "two" } }), envId: first.envId };
  t.like(await pool.invoke(first), { ok: true, logs: "start one\nwarn one\nno newline one\n" });
  t.like(await pool.invoke(second), { ok: true, logs: "start two\nwarn two\nno newline two\n" });
  const streamed = logLines
    .filter((l) => l.envId === first.envId)
    .map((l) => `${l.requestId} ${l.stream} ${l.line}`);
  t.deepEqual(streamed, [
    `${first.context.awsRequestId} stdout start one`,
    `${first.context.awsRequestId} stderr warn one`,
    `${first.context.awsRequestId} stdout no newline one`,
    `${second.context.awsRequestId} stdout start two`,
    `${second.context.awsRequestId} stderr warn two`,
    `${second.context.awsRequestId} stdout no newline two`,
  ]);
});

test.serial(
  "two environments get two workers; at a cap of 1 the second waits and borrows the warm worker",
  async (t) => {
    const capped = new WorkerPool({ concurrency: 1 });
    t.teardown(() => capped.close());
    const order: string[] = [];
    const run = (tag: string, ms: number) =>
      capped.invoke(request("slow", { event: { ms, tag } })).then((outcome) => {
        order.push(tag);
        return outcome;
      });
    const a = run("a", 200);
    const b = run("b", 0);
    t.deepEqual(capped.stats(), { workers: 1, busy: 1, queued: 1 });
    const [first, second] = await Promise.all([a, b]);
    t.deepEqual(order, ["a", "b"]);
    t.like(first, { ok: true, result: "a", coldStart: true });
    // At the cap, an idle worker running the same code and environment serves the other environment
    // warm, instead of being replaced by a cold one on every call.
    t.like(second, { ok: true, result: "b", coldStart: false });
    t.deepEqual(capped.stats(), { workers: 1, busy: 0, queued: 0 });
    // A different environment cannot borrow it: the idle worker is replaced by a cold one.
    const other = request("echo", {
      event: "c",
      environment: localEnvironment({ PATH: process.env.PATH }, { TABLE: "other" }),
    });
    t.like(await capped.invoke(other), { ok: true, result: { echo: "c" }, coldStart: true });
    t.deepEqual(capped.stats(), { workers: 1, busy: 0, queued: 0 });

    const wide = new WorkerPool({ concurrency: 2 });
    t.teardown(() => wide.close());
    await Promise.all([wide.invoke(request("echo")), wide.invoke(request("echo"))]);
    t.deepEqual(wide.stats(), { workers: 2, busy: 0, queued: 0 });
  },
);

test.serial(
  "an invocation in flight finishes on the old build while the next runs the new one",
  async (t) => {
    const builder = new FunctionBuilder({
      name: "version",
      entry: project.path("src/version.ts"),
      exportName: "handler",
      outDir: project.path(".pulumi-live/build/version"),
      watch: false,
      cwd: project.root,
    });
    builders.push(builder);
    const v1 = await builder.start();
    if (!v1.ok) return t.fail(v1.error);
    const base = { ...request("handler"), functionName: "version", envId: "env-version" };
    const inFlight = pool.invoke({ ...base, build: v1, event: { ms: 300 } });
    await project.write({ "src/version.ts": "export const handler = async () => 'v2, a longer file';\n" });
    const v2 = await builder.rebuild();
    if (!v2.ok) return t.fail(v2.error);
    const next = await pool.invoke({ ...base, build: v2, event: { ms: 0 } });
    t.like(next, { ok: true, result: "v2, a longer file", coldStart: true });
    t.like(await inFlight, { ok: true, result: "v1" });
  },
);

test.serial("close is idempotent and fails later invocations", async (t) => {
  const closing = new WorkerPool({ concurrency: 1 });
  await closing.invoke(request("echo"));
  await Promise.all([closing.close(), closing.close()]);
  t.deepEqual(closing.stats(), { workers: 0, busy: 0, queued: 0 });
  const req = request("echo");
  t.like(await closing.invoke(req), {
    ok: false,
    error: {
      errorType: "Runtime.ExitError",
      errorMessage: `RequestId: ${req.context.awsRequestId} Error: Runtime exited without providing a reason`,
    },
  });
});
