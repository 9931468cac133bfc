import test from "ava";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { generateKey } from "../../protocol";
import { buildStub } from "../../stub/build";
import { PUBLIC_UNAVAILABLE_MESSAGE } from "../../stub/http-event";
import { FakeSession, startBroker } from "./harness";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "pulumi-live-stub-"));
const built = buildStub(join(dir, "index.js"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test("the bundle is one CommonJS file exporting a handler function", async (t) => {
  const { file, bytes } = await built;
  t.is(file, join(dir, "index.js"));
  t.true(bytes > 0);
  const loaded = require(file) as { handler?: unknown };
  t.is(typeof loaded.handler, "function");
});

/** Like Lambda's Node.js runtime: load the bundle in a fresh process, invoke it, print the outcomes. */
const RUNTIME = `
const { handler } = require(process.argv[1]);
const context = (id) => ({
  awsRequestId: id, functionName: "shop-dev-api", functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:shop-dev-api", memoryLimitInMB: "128",
  logGroupName: "/aws/lambda/shop-dev-api", logStreamName: "s", getRemainingTimeInMillis: () => 10000,
});
(async () => {
  const outcomes = [];
  for (const [id, event] of JSON.parse(process.argv[2])) {
    try { outcomes.push({ result: await handler(event, context(id)) }); }
    catch (error) { outcomes.push({ error: error.name + ": " + error.message }); }
  }
  console.log(JSON.stringify(outcomes));
  process.exit(0);
})();
`;

test("the bundle relays through a real broker from a fresh process", async (t) => {
  const { file } = await built;
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const key = generateKey();
  const prefix = "pulumi-live/shop/bundle";
  const session = await FakeSession.start(broker.url, key, prefix);
  t.teardown(() => session.close());
  await session.announce(session.presenceMessage());
  session.onRequest = (request, s) =>
    s.answer(request, { echo: request.event, env: request.environment?.TABLE }, "handler says hi\n");

  const env = {
    PATH: process.env.PATH,
    TABLE: "orders",
    PULUMI_LIVE_PREFIX: prefix,
    PULUMI_LIVE_FUNCTION_ID: "api",
    PULUMI_LIVE_KEY: key.toString("base64"),
    PULUMI_LIVE_CLIENT_PREFIX: "pulumi-live-abc-",
    PULUMI_LIVE_STACK: "shop/bundle",
    PULUMI_LIVE_BROKER_URL: broker.url,
  };
  const invocations = [
    ["b1", { n: 1 }],
    ["b2", { n: 2 }],
  ];
  const { stdout } = await run(process.execPath, ["-e", RUNTIME, file, JSON.stringify(invocations)], { env });
  const lines = stdout.trim().split("\n");
  t.deepEqual(JSON.parse(lines.at(-1)!), [
    { result: { echo: { n: 1 }, env: "orders" } },
    { result: { echo: { n: 2 } } },
  ]);
  t.deepEqual(lines.slice(0, -1), ["handler says hi", "handler says hi"]);
});

test("the bundle reports a missing configuration to the caller", async (t) => {
  const { file } = await built;
  const invocations = [
    ["c1", { Records: [] }],
    ["c2", { requestContext: { http: { method: "GET" } } }],
  ];
  const { stdout } = await run(process.execPath, ["-e", RUNTIME, file, JSON.stringify(invocations)], {
    env: { PATH: process.env.PATH },
  });
  const message =
    "The pulumi-live relay stub is misconfigured: missing PULUMI_LIVE_PREFIX, PULUMI_LIVE_FUNCTION_ID, " +
    "PULUMI_LIVE_KEY, PULUMI_LIVE_CLIENT_PREFIX, PULUMI_LIVE_STACK, PULUMI_LIVE_ENDPOINT (or PULUMI_LIVE_BROKER_URL). " +
    "Redeploy the function in live mode with `pulumi up` (pulumi config set live true).";
  t.deepEqual(JSON.parse(stdout), [
    { error: `PulumiLive.Config: ${message}` },
    {
      result: {
        statusCode: 503,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: PUBLIC_UNAVAILABLE_MESSAGE }),
        isBase64Encoded: false,
      },
    },
  ]);
});
