import test, { type ExecutionContext } from "ava";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalFunction, type LocalFunctionOptions } from "../../cli/local/environments";
import { localFunctionOf } from "../helpers/local-function";
import type { EnvironmentKind } from "../../cli/local/environment-kind";

const HANDLER = `
const fs = require("node:fs");
const path = require("node:path");
let invocations = 0;
// This environment's own: environments are threads of one process, so the pid cannot tell them apart.
const environmentId = require("node:crypto").randomUUID();
exports.handler = async (event, context) => {
  switch (event.action) {
    case "env":
      return {
        token: process.env.AWS_SESSION_TOKEN,
        keyId: process.env.AWS_ACCESS_KEY_ID,
        name: process.env.AWS_LAMBDA_FUNCTION_NAME,
        extra: process.env.EXTRA,
        arn: context.invokedFunctionArn,
        logGroup: context.logGroupName,
        requestId: context.awsRequestId,
        hasTime: context.getRemainingTimeInMillis() > 0,
      };
    case "throw": {
      const error = new Error("bad input");
      error.name = "ValidationError";
      throw error;
    }
    case "hang":
      // Busy for ever (a promise that never settles with nothing pending is Runtime.NodeJsExit instead).
      return new Promise(() => setInterval(() => {}, 1000));
    case "exit":
      process.exit(3);
    case "log":
      console.log("hello", 42);
      process.stderr.write("raw stderr\\n");
      return "logged";
    case "barrier": {
      // Both invocations must be running at once for either to finish: proof of two environments.
      fs.writeFileSync(path.join(event.dir, environmentId), "");
      for (let i = 0; i < 500 && fs.readdirSync(event.dir).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      return { environmentId, seen: fs.readdirSync(event.dir).length };
    }
    case "count":
      return { n: event.n, count: ++invocations };
    default:
      return { echo: event };
  }
};
exports.callback = (event, context, callback) => setImmediate(() => callback(null, { style: "callback", event }));
`;

async function localFunction(
  t: ExecutionContext,
  options: Partial<LocalFunctionOptions> = {},
): Promise<LocalFunction> {
  return localFunctionOf(t, HANDLER, options);
}

function json(payload: Buffer): any {
  return JSON.parse(payload.toString("utf8"));
}

function event(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** The ways an environment is hosted: a thread of its own, a process, an instance in a shared thread. */
const HOSTS: Array<{ name: string; options: Partial<LocalFunctionOptions> }> = [
  ...(["thread", "process"] satisfies EnvironmentKind[]).map((kind) => ({ name: kind, options: { kind } })),
  { name: "shared thread", options: { kind: "thread", shareThreads: true } },
];

// The same contract whichever way the environments are hosted.
for (const { name: kind, options: host } of HOSTS) {
  test(`${kind}: returns the handler's result and reuses the warm environment`, async (t) => {
    const fn = await localFunction(t, host);
    const first = await fn.invoke(event({ hello: "world" }), { tail: false, requestId: "req-1" });
    t.deepEqual(json(first.payload), { echo: { hello: "world" } });
    t.is(first.requestId, "req-1");
    t.is(first.functionError, undefined);
    const empty = await fn.invoke(Buffer.alloc(0), { tail: false });
    t.deepEqual(json(empty.payload), { echo: {} });
    t.regex(empty.requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    t.is(fn.environmentCount, 1);
  });

  test(`${kind}: the handler sees Lambda's variables, the generated credentials and its own environment`, async (t) => {
    const fn = await localFunction(t, { ...host, environment: { EXTRA: "yes" }, region: "eu-west-1" });
    const result = await fn.invoke(event({ action: "env" }), { tail: false, requestId: "req-env" });
    t.deepEqual(json(result.payload), {
      token: fn.credentials.sessionToken,
      keyId: fn.credentials.accessKeyId,
      name: "api",
      extra: "yes",
      arn: "arn:aws:lambda:eu-west-1:000000000000:function:api",
      logGroup: "/aws/lambda/api",
      requestId: "req-env",
      hasTime: true,
    });
    t.regex(fn.credentials.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
  });

  test(`${kind}: a thrown error is an Unhandled function error in Lambda's shape`, async (t) => {
    const fn = await localFunction(t, host);
    const result = await fn.invoke(event({ action: "throw" }), { tail: false });
    t.is(result.functionError, "Unhandled");
    const error = json(result.payload);
    t.is(error.errorType, "ValidationError");
    t.is(error.errorMessage, "bad input");
    t.is(error.trace[0], "ValidationError: bad input");
  });

  test(`${kind}: a callback-style handler and a missing export behave as in Lambda`, async (t) => {
    const fn = await localFunction(t, { ...host, handlerExport: "callback" });
    const result = await fn.invoke(event({ n: 1 }), { tail: false });
    t.deepEqual(json(result.payload), { style: "callback", event: { n: 1 } });
    const missing = await localFunction(t, { ...host, handlerExport: "nope" });
    const failed = await missing.invoke(event({}), { tail: false });
    t.is(failed.functionError, "Unhandled");
    t.deepEqual(json(failed.payload), {
      errorType: "Runtime.HandlerNotFound",
      errorMessage: "index.nope is undefined or not exported",
      trace: ["Runtime.HandlerNotFound: index.nope is undefined or not exported"],
    });
  });

  test(`${kind}: a timeout kills the environment with Sandbox.Timedout and the next call gets a fresh one`, async (t) => {
    const fn = await localFunction(t, { ...host, timeoutSeconds: 0.5 });
    const result = await fn.invoke(event({ action: "hang" }), { tail: true, requestId: "req-slow" });
    t.is(result.functionError, "Unhandled");
    t.deepEqual(json(result.payload), {
      errorType: "Sandbox.Timedout",
      errorMessage: "RequestId: req-slow Error: Task timed out after 0.50 seconds",
      trace: [],
    });
    t.regex(result.logTail ?? "", /req-slow Task timed out after 0\.50 seconds\nEND RequestId: req-slow\n/);
    const next = await fn.invoke(event({ again: true }), { tail: false });
    t.deepEqual(json(next.payload), { echo: { again: true } });
  });

  test(`${kind}: a crashed environment reports Runtime.ExitError and is replaced`, async (t) => {
    const fn = await localFunction(t, host);
    const crashed = await fn.invoke(event({ action: "exit" }), { tail: false, requestId: "req-exit" });
    t.deepEqual(json(crashed.payload), {
      errorType: "Runtime.ExitError",
      errorMessage: "RequestId: req-exit Error: Runtime exited with error: exit status 3",
      trace: [],
    });
    const next = await fn.invoke(event({}), { tail: false });
    t.deepEqual(json(next.payload), { echo: {} });
    t.is(fn.environmentCount, 1);
  });

  test(`${kind}: two concurrent invocations run in two environments`, async (t) => {
    const fn = await localFunction(t, host);
    const dir = await mkdtemp(join(tmpdir(), "pulumi-live-barrier-"));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const results = await Promise.all(
      [1, 2].map(() => fn.invoke(event({ action: "barrier", dir }), { tail: false })),
    );
    const [a, b] = results.map((r) => json(r.payload));
    t.is(a.seen, 2);
    t.is(b.seen, 2);
    t.not(a.environmentId, b.environmentId);
    t.is(fn.environmentCount, 2);
  });

  test(`${kind}: over maxEnvironments, invocations wait in order for a free environment`, async (t) => {
    const fn = await localFunction(t, { ...host, maxEnvironments: 1 });
    const calls = [1, 2, 3].map((n) => fn.invoke(event({ action: "count", n }), { tail: false }));
    const results = await Promise.all(calls);
    // One warm environment ran them one after another, in the order they arrived.
    t.deepEqual(
      results.map((r) => json(r.payload)),
      [1, 2, 3].map((n) => ({ n, count: n })),
    );
    t.is(fn.environmentCount, 1);
  });

  test(`${kind}: the log tail holds the invocation's stdout and stderr between START and REPORT`, async (t) => {
    const lines: string[] = [];
    const fn = await localFunction(t, { ...host, onLog: (name, line) => lines.push(`${name}: ${line}`) });
    const result = await fn.invoke(event({ action: "log" }), { tail: true, requestId: "req-log" });
    t.deepEqual(json(result.payload), "logged");
    const tail = result.logTail ?? "";
    t.true(tail.startsWith("START RequestId: req-log Version: $LATEST\n"), tail);
    t.regex(tail, /\n\d{4}-\d\d-\d\dT[\d:.]+Z\treq-log\tINFO\thello 42\n/);
    t.regex(tail, /\nraw stderr\n/);
    t.regex(
      tail,
      /END RequestId: req-log\nREPORT RequestId: req-log\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\t\n$/,
    );
    t.true(lines.includes("api: raw stderr"));
    const without = await fn.invoke(event({ action: "log" }), { tail: false });
    t.is(without.logTail, undefined);
  });

  test(`${kind}: what the handler's module prints while it loads is its init's, without a request id`, async (t) => {
    const fn = await localFunctionOf(
      t,
      `console.log("loading"); exports.handler = async () => "loaded";`,
      host,
    );
    const result = await fn.invoke(event({}), { tail: true, requestId: "req-first" });
    t.is(result.functionError, undefined, result.payload.toString());
    t.deepEqual(json(result.payload), "loaded");
    t.regex(result.logTail ?? "", /\n\d{4}-\d\d-\d\dT[\d:.]+Z\tundefined\tINFO\tloading\n/);
  });
}
