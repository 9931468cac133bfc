/**
 * Environments sharing threads (`shareThreads`, what serve --local gives the stub bundle): up to
 * ENVIRONMENTS_PER_THREAD in a thread, each still an environment of its own as Lambda's are: its own
 * module state, variables and console, one invocation at a time, discarded at its deadline (its links to
 * the broker cut) while the others in its thread answer, and nothing of a thread that ends reused.
 */
import test, { type ExecutionContext } from "ava";
import type { Duplex } from "node:stream";
import { threadId } from "node:worker_threads";
import {
  ENVIRONMENTS_PER_THREAD,
  LocalFunction,
  type LocalFunctionOptions,
} from "../../cli/local/environments";
import { localFunctionOf } from "../helpers/local-function";

const MODULE = `
const { threadId } = require("node:worker_threads");
const instance = Math.random().toString(36).slice(2);
// Taken at init, as the stub's connection takes it.
const transport = globalThis[Symbol.for("pulumi-live.stub-transport")];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let invocations = 0;
exports.handler = async (event, context) => {
  invocations++;
  switch (event.action) {
    case "wait":
      await sleep(event.ms);
      break;
    case "set":
      process.env.SHARED = event.value;
      await sleep(event.ms);
      break;
    case "log":
      console.log("hello from", instance);
      await sleep(event.ms);
      break;
    case "hang":
      return new Promise(() => {});
    case "throw-soon":
      setTimeout(() => { throw new Error("from a timer"); }, event.ms);
      break;
    case "link-hang":
      transport.open().write(instance);
      return new Promise(() => {});
  }
  return {
    threadId, instance, invocations,
    shared: process.env.SHARED ?? null,
    stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    contextStream: context.logStreamName,
  };
};
`;

interface Answer {
  threadId: number;
  instance: string;
  invocations: number;
  shared: string | null;
  stream: string;
  contextStream: string;
}

function shared(t: ExecutionContext, options: Partial<LocalFunctionOptions> = {}): Promise<LocalFunction> {
  return localFunctionOf(t, MODULE, { shareThreads: true, maxEnvironments: 20, ...options });
}

async function call(fn: LocalFunction, event: unknown, tail = false) {
  const result = await fn.invoke(Buffer.from(JSON.stringify(event)), { tail });
  return {
    ...result,
    answer: JSON.parse(result.payload.toString("utf8")) as Answer & { errorMessage?: string },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("a function's environments share threads, each an instance of its own, warm ones reused", async (t) => {
  const fn = await shared(t);
  const count = ENVIRONMENTS_PER_THREAD + 2;
  const first = await Promise.all(Array.from({ length: count }, () => call(fn, { action: "wait", ms: 300 })));
  const answers = first.map((r) => r.answer);
  t.is(new Set(answers.map((a) => a.instance)).size, count, "an instance of the module per environment");
  const threads = new Set(answers.map((a) => a.threadId));
  t.is(threads.size, Math.ceil(count / ENVIRONMENTS_PER_THREAD), "as few threads as hold them");
  t.false(threads.has(threadId), "not serve's thread");
  t.is(fn.environmentCount, count);
  // One at a time now: a warm environment is reused, with its module state.
  const again = (await call(fn, {})).answer;
  t.true(answers.some((a) => a.instance === again.instance));
  t.is(again.invocations, 2);
  t.is(fn.environmentCount, count, "no new environment");
});

test("each environment in a thread has its own variables, log stream and console", async (t) => {
  const fn = await shared(t, { environment: { SHARED: "initial" } });
  const [set, other] = await Promise.all([
    call(fn, { action: "set", value: "changed", ms: 300 }),
    call(fn, { action: "wait", ms: 300 }),
  ]);
  t.is(set.answer.threadId, other.answer.threadId, "the same thread");
  t.not(set.answer.instance, other.answer.instance);
  t.is(set.answer.shared, "changed");
  t.is(other.answer.shared, "initial", "what one environment sets, another does not see");
  t.not(set.answer.stream, other.answer.stream, "a log stream per environment");
  t.is(set.answer.stream, set.answer.contextStream);
  t.is(other.answer.stream, other.answer.contextStream);

  // Two logging at once: each line lands in its own invocation's tail, with its request id.
  const logged = await Promise.all([
    call(fn, { action: "log", ms: 200 }, true),
    call(fn, { action: "log", ms: 200 }, true),
  ]);
  for (const { answer, logTail, requestId } of logged) {
    const lines = (logTail ?? "").split("\n").filter((line) => line.includes("hello from"));
    t.is(lines.length, 1, logTail);
    t.true(lines[0].includes(`\t${requestId}\tINFO\thello from ${answer.instance}`), lines[0]);
  }
});

test("a timed-out environment is discarded; the others in its thread answer, then the thread ends", async (t) => {
  const fn = await shared(t, { timeoutSeconds: 1 });
  // Two warm environments in one thread.
  const warm = (
    await Promise.all([call(fn, { action: "wait", ms: 100 }), call(fn, { action: "wait", ms: 100 })])
  ).map((r) => r.answer);
  t.is(warm[0].threadId, warm[1].threadId);
  const hanging = call(fn, { action: "hang" });
  await sleep(600);
  // The other, busy in the same thread when the first times out (at 1 s); answers at 1.3 s.
  const busy = call(fn, { action: "wait", ms: 700 });
  const timedOut = await hanging;
  t.is(timedOut.functionError, "Unhandled");
  t.regex(timedOut.answer.errorMessage ?? "", /Task timed out after 1\.00 seconds/);
  const answered = await busy;
  t.falsy(answered.functionError, "the other answers");
  t.is(answered.answer.threadId, warm[0].threadId);
  t.is(answered.answer.invocations, 2);
  // Neither is reused: the next environment is new, in a new thread.
  const next = (await call(fn, {})).answer;
  t.false(warm.some((w) => w.instance === next.instance));
  t.not(next.threadId, warm[0].threadId);
  t.is(next.invocations, 1);
});

test("a timed-out environment's links to the broker are cut at once, while its thread serves on", async (t) => {
  const links: Duplex[] = [];
  const fn = await shared(t, { timeoutSeconds: 1, broker: { handle: (stream) => void links.push(stream) } });
  await Promise.all([call(fn, { action: "wait", ms: 100 }), call(fn, { action: "wait", ms: 100 })]);
  const hanging = call(fn, { action: "link-hang" });
  await waitFor(() => links.length === 1);
  const link = links[0];
  const events: string[] = [];
  link.on("error", () => undefined).resume(); // read, as the broker reads
  link.once("close", () => events.push("link closed"));
  await sleep(500);
  // The other environment of the thread, busy until after the first has timed out (at 1 s).
  const busy = call(fn, { action: "wait", ms: 900 }).then((r) => {
    events.push("other answered");
    return r;
  });
  t.is((await hanging).functionError, "Unhandled");
  const other = await busy;
  t.falsy(other.functionError, other.payload.toString());
  t.deepEqual(events, ["link closed", "other answered"]);
});

test("an error thrown outside any invocation fails what runs in its thread; fresh environments follow", async (t) => {
  const fn = await shared(t);
  const [busy, thrower] = await Promise.all([
    call(fn, { action: "wait", ms: 1000 }),
    call(fn, { action: "throw-soon", ms: 200 }),
  ]);
  t.falsy(thrower.functionError, "answered before its timer threw");
  t.is(busy.functionError, "Unhandled", "the invocation running in the thread when it threw fails");
  t.is(busy.answer.errorMessage, "from a timer");
  const next = (await call(fn, {})).answer;
  t.not(next.threadId, thrower.answer.threadId, "a new thread");
  t.is(next.invocations, 1);
});

test("only a CommonJS module shares threads", (t) => {
  const error = t.throws(
    () =>
      new LocalFunction({
        name: "a",
        handlerFile: "/x/index.mjs",
        handlerExport: "handler",
        shareThreads: true,
      }),
  );
  t.regex(error.message, /shareThreads needs a CommonJS module; \/x\/index\.mjs is an ES module/);
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await sleep(20);
  if (!condition()) throw new Error("condition not met within 2 s");
}
