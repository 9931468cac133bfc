import { writeFile } from "node:fs/promises";
import test from "ava";
import { deadlinePassedMessage, parseInspect } from "../../cli/debug/inspector";
import { FunctionBuilder } from "../../cli/runtime/builder";
import { WorkerPool } from "../../cli/runtime/worker-pool";
import { localEnvironment } from "../../core/local-environment";
import { tempProject } from "../runtime/temp-project";

// Stands in for a handler held at a breakpoint: it goes on only once the gate file exists.
const HELD = `import { existsSync } from "node:fs";
export const handler = async (event: { gate: string }) => {
  for (let i = 0; i < 4000 && !existsSync(event.gate); i++) await new Promise((r) => setTimeout(r, 5));
  return { released: existsSync(event.gate) };
};
`;

test("while debugging, an invocation held past its deadline is reported, not killed, and completes", async (t) => {
  const project = await tempProject({ "src/held.ts": HELD });
  t.teardown(() => project.remove());
  const builder = new FunctionBuilder({
    name: "held",
    entry: project.path("src/held.ts"),
    exportName: "handler",
    outDir: project.path(".pulumi-live/build/held"),
    watch: false,
    cwd: project.root,
  });
  t.teardown(() => builder.dispose());
  const build = await builder.start();
  if (!build.ok) return t.fail(build.error);
  const gate = project.path("gate");
  const passed: unknown[] = [];
  const pool = new WorkerPool({
    concurrency: 1,
    debugging: true,
    onDeadlinePassed: (e) => {
      passed.push(e);
      void writeFile(gate, "go");
    },
  });
  t.teardown(() => pool.close());
  const outcome = await pool.invoke({
    functionName: "held",
    envId: "env-1",
    build,
    exportName: "handler",
    event: { gate },
    context: {
      awsRequestId: "req-held",
      functionName: "held",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:held",
      memoryLimitInMB: "128",
      logGroupName: "/aws/lambda/held",
      logStreamName: "local",
    },
    deadline: Date.now() + 200,
    environment: localEnvironment(process.env, {}),
  });
  t.like(outcome, { ok: true, result: { released: true } });
  t.is(passed.length, 1);
  t.like(passed[0], { functionName: "held", requestId: "req-held" });
});

test("the deadline message says what happened and how liveTimeout raises it", (t) => {
  t.is(
    deadlinePassedMessage({ functionName: "api", requestId: "0123456789abcdef", budgetMs: 3000 }),
    "api 01234567: held past its deadline (3.0 s), by the debugger probably. The caller has already seen " +
      "a timeout and this answer will be discarded. To step through without that, give the LiveFunction a " +
      "longer liveTimeout (e.g. liveTimeout: 900) and run pulumi up (with --local: --timeout SECONDS).",
  );
});

test("--inspect takes nothing, a port, a host or host:port", (t) => {
  t.deepEqual(parseInspect(true), { host: "127.0.0.1", port: 9229 });
  t.deepEqual(parseInspect("9230"), { host: "127.0.0.1", port: 9230 });
  t.deepEqual(parseInspect("0.0.0.0:0"), { host: "0.0.0.0", port: 0 });
  t.deepEqual(parseInspect("localhost"), { host: "localhost", port: 9229 });
  t.deepEqual(parseInspect("[::1]:9300"), { host: "::1", port: 9300 });
  t.throws(() => parseInspect("host:99999"), {
    message:
      'Invalid --inspect "host:99999": expected --inspect, --inspect=PORT or --inspect=HOST:PORT (e.g. 127.0.0.1:9229).',
  });
});
