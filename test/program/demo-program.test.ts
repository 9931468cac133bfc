/**
 * `serve --local` with no flags on the repository's demo program (Pulumi.yaml → the compiled
 * examples/demo): its three LiveFunctions and their triggers, end to end through the real stub, broker,
 * session and workers — a function URL request, an SQS message sent with the AWS SDK, a schedule fired now.
 */
import test from "ava";
import path from "node:path";
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { runFireCommand } from "../../cli/commands/fire";
import { startLocalServer, type LocalServer } from "../../cli/commands/serve-local";
import type { ReadyFunction } from "../../cli/reporter";
import { RecordingReporter } from "../helpers/recorder";

const repo = path.join(__dirname, "../../..");
let server: LocalServer;
let reporter: RecordingReporter;
let functions: ReadyFunction[];
let gateway: string;

test.before(async () => {
  reporter = new RecordingReporter();
  const ready = reporter.next((e) => e.type === "ready", 90_000);
  server = await startLocalServer({
    functions: [],
    cwd: repo,
    port: 0,
    watch: false,
    record: false,
    reporter,
  });
  const event = await ready;
  functions = event.functions;
  gateway = event.gateway;
});

test.after.always(() => server?.close());

test("the ready output lists each function, its triggers and how to call each", (t) => {
  t.deepEqual(
    functions.map((f) => [f.name, f.handler, f.triggers?.map((tr) => tr.kind)]),
    [
      ["api", "examples/handlers/api.handler", ["http"]],
      ["worker", "examples/handlers/worker.handler", ["sqs"]],
      ["cron", "examples/handlers/cron.handler", ["schedule"]],
    ],
  );
  t.deepEqual(functions[0].triggers, [{ kind: "http", source: "function-url", url: `${gateway}/api/` }]);
  t.deepEqual(functions[1].triggers, [
    {
      kind: "sqs",
      queue: "jobs",
      queueUrl: `${gateway}/000000000000/jobs`,
      batchSize: 10,
      reportBatchItemFailures: true,
    },
  ]);
  t.like(functions[2].triggers?.[0], {
    kind: "schedule",
    rule: "cron-schedule",
    expression: "rate(5 minutes)",
    fire: `pulumi-live fire cron-schedule --endpoint ${gateway}`,
  });
  t.true(Date.parse((functions[2].triggers?.[0] as { next: string }).next) > Date.now());
});

test("the function URL answers with the function URL's event shape", async (t) => {
  const response = await fetch(`${gateway}/api/?name=Ada`);
  t.is(response.status, 200);
  t.regex(response.headers.get("x-amzn-requestid") ?? "", /^[0-9a-f-]{36}$/);
  t.like(await response.json(), { greeting: "Hello, Ada!" });
});

test("an SQS message sent with the AWS SDK reaches the worker, which reports no failures", async (t) => {
  const quiet = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  // No endpoint: the SDK sends to the queue URL's host (and warns that it does, hence the quiet logger).
  const sqs = new SQSClient({
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    logger: quiet,
  });
  t.teardown(() => sqs.destroy());
  const queueUrl = `${gateway}/000000000000/jobs`;
  const logged = reporter.next(
    (e) => e.type === "log" && e.name === "worker" && /: hello from the SDK$/.test(e.line),
    30_000,
  );
  const sent = await sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "hello from the SDK" }),
  );
  t.is((await logged).line, `message ${sent.MessageId}: hello from the SDK`);
  const result = await reporter.next((e) => e.type === "result" && e.name === "worker");
  t.falsy(result.error);
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl }));
  t.is(attributes.Attributes?.ApproximateNumberOfMessages, "0");
});

test("pulumi-live fire runs the schedule's function now with the scheduled event", async (t) => {
  let out = "";
  const logged = reporter.next((e) => e.type === "log" && e.name === "cron", 30_000);
  const code = await runFireCommand(["cron-schedule", "--endpoint", gateway], {
    stdout: (s) => (out += s),
    stderr: () => undefined,
    cwd: repo,
    env: {},
  });
  t.is(code, 0);
  t.regex(out, /^✓ cron-schedule → cron [0-9a-f-]{36}\n$/);
  t.regex((await logged).line, /^scheduled event at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const unknown = await t.throwsAsync(
    runFireCommand(["nope", "--endpoint", gateway], {
      stdout: () => undefined,
      stderr: () => undefined,
      cwd: repo,
      env: {},
    }),
  );
  t.is(unknown?.message, 'No schedule named "nope". Schedules: cron-schedule.');
});
