import { createHash, randomBytes, randomUUID } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import test, { type ExecutionContext } from "ava";
import mqtt from "mqtt";
import {
  encodeMessage,
  environmentHash,
  generateKey,
  Reassembler,
  seal,
  stackTopics,
  type Message,
  type RequestMessage,
} from "../../protocol";
import { startLocalServer, type LocalServer } from "../../cli/commands/serve-local";
import { PUBLIC_UNAVAILABLE_MESSAGE } from "../../stub/http-event";
import { RecordingReporter } from "../helpers/recorder";
import { Changes } from "../helpers/wait";
import { FUNCTIONS, writeProject } from "./fixtures";

export interface BrokerChoice {
  name: string;
  /** Starts the broker, or returns undefined to use the embedded one. */
  start(): Promise<{ url?: string; stop(): Promise<void> }>;
}

interface World {
  dir: string;
  server: LocalServer;
  reporter: RecordingReporter;
  lambda: LambdaClient;
  stopBroker(): Promise<void>;
}

async function invoke(world: World, name: string, payload: unknown) {
  const out = await world.lambda.send(
    new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), LogType: "Tail" }),
  );
  const text = Buffer.from(out.Payload ?? []).toString();
  return { out, text, json: text ? JSON.parse(text) : undefined };
}

/**
 * Registers the end-to-end cases of the live loop, run through one broker. `bigPayloads: false` leaves
 * out the 5 MB case, for a broker that cannot carry it in reasonable time.
 */
export function registerLoopTests(
  broker: BrokerChoice,
  skip?: string,
  options: { bigPayloads?: boolean } = {},
): void {
  if (skip) {
    // Counted as skipped, with the reason in its title; CI installs mosquitto and requires it.
    test.skip(`${broker.name}: end-to-end loop (${skip})`, () => undefined);
    return;
  }
  let world: World;

  test.before(async () => {
    const dir = await writeProject();
    const started = await broker.start();
    const reporter = new RecordingReporter();
    const server = await startLocalServer({
      functions: FUNCTIONS,
      cwd: dir,
      port: 0,
      broker: started.url,
      // Long enough for 5 MB each way on a loaded 2-core machine; the timeout case waits it out.
      timeoutSeconds: 8,
      env: [`COUNT_FILE=${path.join(dir, "count.log")}`, "CUSTOM_SETTING=from-the-function"],
      reporter,
    });
    const lambda = new LambdaClient({
      endpoint: server.gateway,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 1,
    });
    world = { dir, server, reporter, lambda, stopBroker: started.stop };
  });

  test.after.always(async () => {
    if (!world) return;
    world.lambda.destroy();
    await world.server.close();
    await world.stopBroker();
    await rm(world.dir, { recursive: true, force: true });
  });

  test.serial(`${broker.name}: an API Gateway HTTP request reaches the handler and maps back`, async (t) => {
    const response = await fetch(`${world.server.gateway}/api/items/7?color=red`, {
      method: "POST",
      body: "hello",
    });
    t.is(response.status, 201);
    t.is(response.headers.get("x-live"), "yes");
    t.is(response.headers.get("set-cookie"), "session=abc; Path=/");
    t.deepEqual(await response.json(), {
      method: "POST",
      path: "/items/7",
      query: { color: "red" },
      body: "hello",
    });
  });

  test.serial(
    `${broker.name}: an SQS batch through the Lambda Invoke API, with a callback handler`,
    async (t) => {
      const records = ["ok", "fail", "ok"].map((body, i) => ({
        messageId: `m${i}`,
        body,
        eventSource: "aws:sqs",
      }));
      const { out, json } = await invoke(world, "sqs", { Records: records });
      t.is(out.StatusCode, 200);
      t.is(out.FunctionError, undefined);
      t.deepEqual(json, { batchItemFailures: [{ itemIdentifier: "m1" }] });
    },
  );

  test.serial(
    `${broker.name}: the handler's error is rethrown with its type, message and .ts stack`,
    async (t) => {
      const { out, json } = await invoke(world, "fail", { ok: false });
      t.is(out.FunctionError, "Unhandled");
      t.is(json.errorType, "ValidationError");
      t.is(json.errorMessage, "input is not ok");
      t.regex(json.trace.join("\n"), /src\/fail\.ts:6:\d+/);
    },
  );

  test.serial(`${broker.name}: a handler past its deadline gets Lambda's timeout error`, async (t) => {
    const { out, json } = await invoke(world, "spin", {});
    t.is(out.FunctionError, "Unhandled");
    t.is(json.errorType, "Sandbox.Timedout");
    t.regex(json.errorMessage, /Task timed out after \d+\.\d\d seconds/);
    // The server stays up and the function serves again on a fresh worker.
    t.is((await invoke(world, "echo", { after: "timeout" })).out.FunctionError, undefined);
  });

  // Not registered at all without big payloads: the other file of the same broker covers the case.
  const big = options.bigPayloads === false ? undefined : test.serial;
  big?.(`${broker.name}: 5 MB request and 5 MB response cross intact`, async (t) => {
    const data = randomBytes(3_900_000).toString("base64");
    const event = { data };
    const { json } = await invoke(world, "echo", event);
    const expected = JSON.stringify(event);
    t.is(json.bytes, Buffer.byteLength(expected));
    t.is(json.sha256, createHash("sha256").update(expected).digest("hex"));
    const big = await invoke(world, "big", { bytes: 5 * 1024 * 1024 });
    t.is(big.out.FunctionError, undefined);
    t.is(typeof big.json, "string");
    t.is(big.json.length, 5 * 1024 * 1024);
  });

  test.serial(`${broker.name}: 7 MB payloads fail with Lambda's errors for oversized payloads`, async (t) => {
    const error = await t.throwsAsync(invoke(world, "echo", { data: "x".repeat(7 * 1024 * 1024) }));
    t.is(error?.name, "RequestTooLargeException");
    const { out, json } = await invoke(world, "big", { bytes: 7 * 1024 * 1024 });
    t.is(out.FunctionError, "Unhandled");
    t.is(json.errorType, "Function.ResponseSizeTooLarge");
  });

  test.serial(`${broker.name}: 50 concurrent invocations each get their own answer`, async (t) => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => invoke(world, "echo", { i, pad: "p".repeat(1000) })),
    );
    const ids = new Set(results.map((r) => r.json.requestId));
    t.is(ids.size, 50);
    for (const [i, r] of results.entries()) {
      t.is(r.out.FunctionError, undefined, JSON.stringify(r.json));
      t.is(
        r.json.sha256,
        createHash("sha256")
          .update(JSON.stringify({ i, pad: "p".repeat(1000) }))
          .digest("hex"),
      );
    }
  });

  test.serial(
    `${broker.name}: an edit is served on the next invocation; a broken build is reported, then fixed`,
    async (t) => {
      t.is((await invoke(world, "edit", {})).json, "version 1");
      const file = path.join(world.dir, "src/edit.ts");
      let built = world.reporter.next((e) => e.type === "build" && e.name === "edit" && e.ok);
      await writeFile(file, `export const handler = async () => "version two, edited";\n`);
      await built;
      t.is((await invoke(world, "edit", {})).json, "version two, edited");

      const broken = world.reporter.next((e) => e.type === "build" && e.name === "edit" && !e.ok);
      await writeFile(file, `export const handler = async () => {\n  return "unclosed;\n`);
      const failure = await broken;
      t.regex(failure.error, /src\/edit\.ts:2:\d+/);
      const { out, json } = await invoke(world, "edit", {});
      t.is(out.FunctionError, "Unhandled");
      t.is(json.errorType, "PulumiLive.BuildError");
      t.regex(json.errorMessage, /src\/edit\.ts:2/);

      built = world.reporter.next((e) => e.type === "build" && e.name === "edit" && e.ok);
      await writeFile(file, `export const handler = async () => "version three, fixed";\n`);
      await built;
      t.is((await invoke(world, "edit", {})).json, "version three, fixed");
    },
  );

  test.serial(
    `${broker.name}: the handler sees the function's environment and credentials, marked live`,
    async (t) => {
      const { json } = await invoke(world, "env", {});
      t.is(json.PULUMI_LIVE, "true");
      t.is(json.IS_LOCAL, "true");
      t.is(json.CUSTOM_SETTING, "from-the-function");
      t.is(json.AWS_LAMBDA_FUNCTION_NAME, "env");
      t.regex(json.AWS_ACCESS_KEY_ID, /^ASIA[A-Z0-9]{16}$/);
      t.truthy(json.AWS_SECRET_ACCESS_KEY);
      t.truthy(json.AWS_SESSION_TOKEN);
      // The stub's own settings never reach the handler.
      t.is(json.PULUMI_LIVE_KEY, null);
    },
  );

  test.serial(
    `${broker.name}: a request delivered twice runs once; empty, garbage and foreign frames are ignored`,
    async (t) => {
      const topics = stackTopics(world.server.prefix);
      const envId = "dup" + randomBytes(3).toString("hex");
      const responseTopic = topics.response("count", envId);
      const client = await mqtt.connectAsync(world.server.broker, {
        protocolVersion: 4,
        clientId: `test-${envId}`,
        ...(world.server.brokerPassword
          ? { username: "pulumi-live", password: world.server.brokerPassword }
          : {}),
      });
      t.teardown(() => client.endAsync());
      const reassembler = new Reassembler(world.server.key);
      const received: Message[] = [];
      const arrivals = new Changes();
      client.on("message", (topic, payload) => {
        const message = reassembler.push(topic, payload);
        if (message) {
          received.push(message);
          arrivals.changed();
        }
      });
      await client.subscribeAsync(responseTopic, { qos: 1 });
      const until = (count: number) =>
        arrivals.until(
          () => received.filter((m) => m.type === "response").length >= count,
          () => `only ${received.length} messages`,
        );

      const environment = { COUNT_FILE: path.join(world.dir, "dup.log") };
      const request: RequestMessage = {
        type: "request",
        requestId: randomUUID(),
        functionId: "count",
        envId,
        responseTopic,
        deadline: Date.now() + 10_000,
        event: { tag: "once", waitMs: 300 },
        context: {
          awsRequestId: "",
          functionName: "count",
          functionVersion: "$LATEST",
          invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:count",
          memoryLimitInMB: "128",
          logGroupName: "/aws/lambda/count",
          logStreamName: "local",
        },
        envHash: environmentHash(environment),
        environment,
      };
      request.context.awsRequestId = request.requestId;
      const frames = encodeMessage(world.server.key, topics.request("count"), request);
      const publishAll = () =>
        Promise.all(frames.map((f) => client.publishAsync(topics.request("count"), f, { qos: 1 })));
      // Garbage, a frame sealed with another key, a sealed message of the wrong type, then the request twice.
      const dropsBefore = world.server.session.drops;
      await client.publishAsync(topics.request("count"), Buffer.from("garbage"), { qos: 1 });
      // An empty payload too: aws-crt hands it over as a detached buffer, which once crashed the CLI.
      await client.publishAsync(topics.request("count"), Buffer.alloc(0), { qos: 1 });
      await client.publishAsync(
        topics.request("count"),
        encodeMessage(generateKey(), topics.request("count"), request)[0],
        { qos: 1 },
      );
      await client.publishAsync(
        topics.request("count"),
        encodeMessage(world.server.key, topics.request("count"), {
          type: "response",
          requestId: "x",
          result: 1,
        })[0],
        { qos: 1 },
      );
      await client.publishAsync(
        topics.request("count"),
        seal(world.server.key, topics.request("count"), Buffer.from("x")),
        { qos: 1 },
      );
      await publishAll();
      await publishAll();
      await until(1);
      // A third delivery after the answer gets the same answer again, without running the handler.
      await publishAll();
      await until(2);
      const responses = received.filter((m) => m.type === "response");
      t.deepEqual(
        responses.map((m) => (m.type === "response" ? m.result : undefined)),
        [{ tag: "once" }, { tag: "once" }],
      );
      t.is(await readFile(environment.COUNT_FILE, "utf8"), "once\n");
      const drops = world.server.session.drops;
      t.is(drops.unsealed - dropsBefore.unsealed, 3);
      t.is(drops.malformed - dropsBefore.malformed, 1);
      t.is(drops.foreign - dropsBefore.foreign, 1);
      t.true(drops.duplicate - dropsBefore.duplicate >= 2);
      // And the server still serves.
      t.is((await invoke(world, "echo", { still: "up" })).out.FunctionError, undefined);
    },
  );

  test.serial(
    `${broker.name}: with no session online the stub fails at once, saying what to run`,
    async (t: ExecutionContext) => {
      // Warm the environment first, so the measured call is not a cold start.
      t.is((await invoke(world, "echo", { warm: true })).out.FunctionError, undefined);
      await world.server.session.close();
      const started = Date.now();
      const response = await fetch(`${world.server.gateway}/api/`);
      const elapsed = Date.now() - started;
      t.is(response.status, 503);
      // The public body says only that; the function's log says what to run.
      t.deepEqual(await response.json(), { message: PUBLIC_UNAVAILABLE_MESSAGE });
      const { out, json } = await invoke(world, "echo", {});
      t.is(out.FunctionError, "Unhandled");
      t.is(json.errorType, "PulumiLive.NoSession");
      // Not a timing goal: below the 2 s ack timeout proves the stub did not wait for a session to answer.
      t.true(elapsed < 2000, `took ${elapsed} ms`);
    },
  );
}
