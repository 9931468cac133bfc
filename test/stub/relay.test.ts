import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  environmentHash,
  generateKey,
  seal,
  type PresenceMessage,
  type RequestMessage,
} from "../../protocol";
import type { StubConfig } from "../../stub/config";
import { PUBLIC_UNAVAILABLE_MESSAGE } from "../../stub/http-event";
import { createRelay, type Relay, type RelayOptions } from "../../stub/relay";
import { FakeSession, lambdaContext, startBroker } from "./harness";

let broker: Awaited<ReturnType<typeof startBroker>>;
test.before(async () => {
  broker = await startBroker();
});
test.after.always(async () => {
  await broker?.close();
});

const key = generateKey();
const FUNCTION_ENV = { AWS_REGION: "eu-west-1", TABLE: "orders", PATH: "/usr/bin" };
let prefixes = 0;

function nextPrefix(): string {
  return `pulumi-live/shop/t${++prefixes}`;
}

/** A relay on its own topic prefix (tests share one broker), closed in teardown. */
function setup(
  t: { teardown(fn: () => unknown): void },
  prefix: string,
  overrides: Partial<StubConfig> = {},
  options: RelayOptions = {},
) {
  const config: StubConfig = {
    prefix,
    functionId: "api",
    key,
    clientPrefix: "pulumi-live-abc-",
    stack: "shop/dev",
    broker: { kind: "url", url: broker.url },
    ackTimeoutMs: 2000,
    ...overrides,
  };
  const logs: string[] = [];
  const relay = createRelay(config, { env: FUNCTION_ENV, log: (text) => logs.push(text), ...options });
  t.teardown(() => relay.close());
  return { relay, logs };
}

async function session(t: { teardown(fn: () => unknown): void }, prefix: string, sessionId = "session-1") {
  const fake = await FakeSession.start(broker.url, key, prefix, sessionId);
  t.teardown(() => fake.close());
  await fake.announce(fake.presenceMessage());
  return fake;
}

/** Resolves once the relay has seen a presence that satisfies `test`. */
function presenceReaches(
  relay: Relay,
  test: (presence: PresenceMessage | undefined) => boolean,
): Promise<void> {
  return new Promise((resolve) => {
    const stop = relay.connection.onPresence(() => {
      if (!test(relay.connection.presence)) return;
      stop();
      resolve();
    });
  });
}

const NO_SESSION =
  'No pulumi-live session is serving stack "shop/dev" (function api). Start one in your project folder: npx pulumi-live serve';

test("a request travels to the session and its result and logs come back", async (t) => {
  const prefix = nextPrefix();
  const fake = await session(t, prefix);
  const { relay, logs } = setup(t, prefix);
  fake.onRequest = (request, s) => s.answer(request, { statusCode: 200, body: "hi" }, "line one\nline two\n");
  const context = lambdaContext("req-1", 5000);
  const before = Date.now();
  const result = await relay.handle({ path: "/orders" }, context);
  t.deepEqual(result, { statusCode: 200, body: "hi" });
  t.deepEqual(logs, ["line one\nline two"]);
  t.is(context.callbackWaitsForEmptyEventLoop, false);
  const [request] = fake.requests;
  const environment = { AWS_REGION: "eu-west-1", TABLE: "orders" };
  const { deadline, ...rest } = request;
  t.deepEqual(rest, {
    type: "request",
    requestId: "req-1",
    functionId: "api",
    envId: relay.envId,
    responseTopic: `${prefix}/res/api/${relay.envId}`,
    event: { path: "/orders" },
    context: {
      awsRequestId: "req-1",
      functionName: "shop-dev-api",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:shop-dev-api",
      memoryLimitInMB: "128",
      logGroupName: "/aws/lambda/shop-dev-api",
      logStreamName: "2024/01/02/[$LATEST]abc",
    },
    sessionId: "session-1",
    envHash: environmentHash(environment),
    environment,
  } satisfies Omit<RequestMessage, "deadline">);
  t.true(deadline >= before + 5000 - 300 - 50 && deadline <= Date.now() + 5000 - 300);
  t.regex(relay.envId, /^[0-9a-f]{12}$/);
});

test("the local handler's error is rethrown with its type, message and stack", async (t) => {
  const prefix = nextPrefix();
  const fake = await session(t, prefix);
  const { relay, logs } = setup(t, prefix);
  const trace = ["TypeError: no such order", "    at handler (/src/api.ts:3:9)"];
  fake.onRequest = async (request, s) => {
    await s.ack(request);
    await s.send(request.responseTopic, {
      type: "error",
      requestId: request.requestId,
      errorType: "TypeError",
      errorMessage: "no such order",
      trace,
      logs: "looking up order 7",
    });
  };
  const error = await t.throwsAsync(relay.handle({}, lambdaContext("req-err")));
  t.is(error?.name, "TypeError");
  t.is(error?.message, "no such order");
  t.is(error?.stack, trace.join("\n"));
  t.deepEqual(logs, ["looking up order 7"]);
});

test("with no session, an HTTP event gets a 503 and any other event a PulumiLive.NoSession error", async (t) => {
  const { relay } = setup(t, nextPrefix(), {}, { presenceGraceMs: 100 });
  const httpEvent = { version: "2.0", rawPath: "/", requestContext: { http: { method: "GET" } } };
  t.deepEqual(await relay.handle(httpEvent, lambdaContext("req-http")), {
    statusCode: 503,
    headers: { "content-type": "application/json" },
    // The public body says only that; the message is in the function's log (test/stub/public-503.test.ts).
    body: JSON.stringify({ message: PUBLIC_UNAVAILABLE_MESSAGE }),
    isBase64Encoded: false,
  });
  const error = await t.throwsAsync(relay.handle({ Records: [] }, lambdaContext("req-sqs")));
  t.is(error?.name, "PulumiLive.NoSession");
  t.is(error?.message, NO_SESSION);
});

test("a cleared presence (empty retained payload) means no session", async (t) => {
  const prefix = nextPrefix();
  const { relay } = setup(t, prefix);
  const online = presenceReaches(relay, (presence) => presence?.sessionId === "session-1");
  const fake = await session(t, prefix);
  await online;
  const offline = presenceReaches(relay, (presence) => presence === undefined);
  await fake.announce(undefined);
  await offline;
  const error = await t.throwsAsync(relay.handle({}, lambdaContext("req-1")));
  t.is(error?.message, NO_SESSION);
});

test("a session that does not serve the function is reported as such", async (t) => {
  const prefix = nextPrefix();
  const fake = await FakeSession.start(broker.url, key, prefix);
  t.teardown(() => fake.close());
  await fake.announce(fake.presenceMessage(true, ["worker"]));
  const { relay } = setup(t, prefix);
  const error = await t.throwsAsync(relay.handle({}, lambdaContext("req-1")));
  t.is(error?.name, "PulumiLive.NoSession");
  t.is(
    error?.message,
    'The pulumi-live session serving stack "shop/dev" does not serve function api. Restart it in your project folder so it picks the function up: npx pulumi-live serve',
  );
});

test("the environment travels once per session, and again when the session asks for it", async (t) => {
  const prefix = nextPrefix();
  const fake = await session(t, prefix);
  const { relay } = setup(t, prefix);
  let forget = false;
  fake.onRequest = async (request, s) => {
    if (forget && !request.environment) return s.ack(request, true);
    await s.answer(request, request.requestId);
  };
  t.is(await relay.handle({}, lambdaContext("r1")), "r1");
  t.is(await relay.handle({}, lambdaContext("r2")), "r2");
  forget = true;
  t.is(await relay.handle({}, lambdaContext("r3")), "r3");
  const sent = fake.requests.map((request) => [request.requestId, request.environment !== undefined]);
  t.deepEqual(sent, [
    ["r1", true],
    ["r2", false],
    ["r3", false],
    ["r3", true],
  ]);

  // A new session (another id) has never seen it.
  const seen = presenceReaches(relay, (presence) => presence?.sessionId === "session-2");
  fake.sessionId = "session-2";
  forget = false;
  await fake.announce(fake.presenceMessage());
  await seen;
  t.is(await relay.handle({}, lambdaContext("r4")), "r4");
  t.is(await relay.handle({}, lambdaContext("r5")), "r5");
  t.deepEqual(
    fake.requests.slice(4).map((request) => [request.requestId, request.environment !== undefined]),
    [
      ["r4", true],
      ["r5", false],
    ],
  );
});

test("duplicate replies and garbage frames on the response topic are ignored", async (t) => {
  const prefix = nextPrefix();
  const fake = await session(t, prefix);
  const { relay } = setup(t, prefix);
  fake.onRequest = async (request, s) => {
    const topic = request.responseTopic;
    await s.client.publishAsync(topic, Buffer.from("not a frame at all"), { qos: 1 });
    await s.client.publishAsync(topic, seal(generateKey(), topic, Buffer.from("other key")), { qos: 1 });
    await s.ack(request);
    await s.ack(request);
    await s.send(topic, { type: "response", requestId: "someone-else", result: "wrong" });
    await s.send(topic, {
      type: "response",
      requestId: request.requestId,
      result: `${request.requestId} first`,
    });
    await s.send(topic, {
      type: "response",
      requestId: request.requestId,
      result: `${request.requestId} again`,
    });
  };
  t.is(await relay.handle({}, lambdaContext("d1")), "d1 first");
  t.is(await relay.handle({}, lambdaContext("d2")), "d2 first");
  t.true(relay.drops.unsealed >= 2);
});

test("a session going offline during a request fails it at once", async (t) => {
  const prefix = nextPrefix();
  const fake = await session(t, prefix);
  const { relay } = setup(t, prefix);
  fake.onRequest = async (request, s) => {
    await s.ack(request);
    await s.announce(s.presenceMessage(false));
  };
  const error = await t.throwsAsync(relay.handle({}, lambdaContext("gone-1", 60_000)));
  t.is(error?.name, "PulumiLive.SessionEnded");
  t.is(
    error?.message,
    'The pulumi-live session serving stack "shop/dev" stopped before function api answered request gone-1. Start it again in your project folder: npx pulumi-live serve',
  );
});

test("a newer session taking over during a request lets the first one answer it", async (t) => {
  const prefix = nextPrefix();
  const fake = await session(t, prefix);
  const { relay } = setup(t, prefix);
  fake.onRequest = async (request, s) => {
    await s.ack(request);
    // Another session announces itself while this one still runs the request...
    const newer = { ...s.presenceMessage(true), sessionId: "session-2", startedAt: 2 };
    await s.announce(newer);
    // ...and this one's answer still completes it.
    await s.send(request.responseTopic, {
      type: "response",
      requestId: request.requestId,
      result: "answered",
    });
  };
  t.is(await relay.handle({}, lambdaContext("takeover-1", 60_000)), "answered");
});

test("a request a session redirects goes to the session online after it, with the environment", async (t) => {
  const prefix = nextPrefix();
  const older = await session(t, prefix, "session-1");
  const { relay } = setup(t, prefix);
  const newer = await FakeSession.start(broker.url, key, prefix, "session-2");
  t.teardown(() => newer.close());
  // The older session was taken over: it runs nothing more and says so; then the newer announces itself.
  older.onRequest = async (request, s) => {
    if (request.sessionId !== "session-1") return;
    await s.send(request.responseTopic, {
      type: "ack",
      requestId: request.requestId,
      sessionId: "session-1",
      redirect: true,
    });
    await newer.announce(newer.presenceMessage());
  };
  newer.onRequest = async (request, s) => {
    if (request.sessionId === "session-2") await s.answer(request, "from session-2");
  };
  t.is(await relay.handle({}, lambdaContext("moved-1", 60_000)), "from session-2");
  t.deepEqual(
    older.requests.map((r) => r.sessionId),
    ["session-1", "session-2"],
  );
  const resent = newer.requests.find((r) => r.sessionId === "session-2");
  t.truthy(resent?.environment);
});

test("a draining session takes no new requests: the stub fails at once, as with no session", async (t) => {
  const prefix = nextPrefix();
  const fake = await session(t, prefix);
  const { relay } = setup(t, prefix);
  await fake.announce({ ...fake.presenceMessage(), draining: true });
  await presenceReaches(relay, (p) => p?.draining === true);
  const error = await t.throwsAsync(relay.handle({}, lambdaContext("draining-1")));
  t.is(error?.name, "PulumiLive.NoSession");
  t.is(fake.requests.length, 0);
});

test("a request redirected by a stopping session fails as having no session, so a fallback can run", async (t) => {
  const prefix = nextPrefix();
  const fake = await session(t, prefix);
  const { relay } = setup(t, prefix);
  fake.onRequest = async (request, s) => {
    await s.announce({ ...s.presenceMessage(), draining: true });
    await s.send(request.responseTopic, {
      type: "ack",
      requestId: request.requestId,
      sessionId: "session-1",
      redirect: true,
    });
  };
  const error = await t.throwsAsync(relay.handle({}, lambdaContext("stopping-1", 60_000)));
  t.is(error?.name, "PulumiLive.NoSession");
});

test("an acknowledged request still gets its answer from a session that starts draining", async (t) => {
  const prefix = nextPrefix();
  const fake = await session(t, prefix);
  const { relay } = setup(t, prefix);
  fake.onRequest = async (request, s) => {
    await s.ack(request);
    await s.announce({ ...s.presenceMessage(), draining: true });
    await s.send(request.responseTopic, {
      type: "response",
      requestId: request.requestId,
      result: "finished",
    });
  };
  t.is(await relay.handle({}, lambdaContext("inflight-1", 60_000)), "finished");
});

test("a session that never acks fails the request with PulumiLive.NoAck", async (t) => {
  const prefix = nextPrefix();
  const fake = await session(t, prefix);
  const { relay } = setup(t, prefix, { ackTimeoutMs: 200 });
  fake.onRequest = () => undefined;
  const error = await t.throwsAsync(relay.handle({}, lambdaContext("mute-1")));
  t.is(error?.name, "PulumiLive.NoAck");
  t.is(
    error?.message,
    'The pulumi-live session serving stack "shop/dev" (session session-1) did not acknowledge request mute-1 for function api within 200 ms. Check that `npx pulumi-live serve` is still running and connected, and look at its output.',
  );
  // Sent once more (IoT Core drops a message over a quota without a word), then failed.
  t.is(fake.requests.length, 2);
  t.is(fake.requests[0].requestId, fake.requests[1].requestId);
});

test("with no session and a fallback, the fallback handler runs instead", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pulumi-live-fallback-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, "real.js"),
    "exports.handler = async (event, context) => ({ fallback: true, event, id: context.awsRequestId });\n" +
      "exports.callbackStyle = (event, context, callback) => callback(null, 'called back');\n",
  );
  writeFileSync(join(dir, "esm.mjs"), "export const handler = async () => 'from esm';\n");
  const { relay, logs } = setup(
    t,
    nextPrefix(),
    { fallback: "real.handler" },
    { baseDir: dir, presenceGraceMs: 50 },
  );
  t.deepEqual(await relay.handle({ n: 1 }, lambdaContext("fb-1")), {
    fallback: true,
    event: { n: 1 },
    id: "fb-1",
  });
  t.deepEqual(logs, [
    `[pulumi-live] PulumiLive.NoSession: running the deployed handler real.handler instead (${NO_SESSION})`,
  ]);

  const { relay: other } = setup(
    t,
    nextPrefix(),
    { fallback: "real.callbackStyle" },
    { baseDir: dir, presenceGraceMs: 50 },
  );
  t.is(await other.handle({}, lambdaContext("fb-2")), "called back");

  const { relay: esm } = setup(
    t,
    nextPrefix(),
    { fallback: "esm.handler" },
    { baseDir: dir, presenceGraceMs: 50 },
  );
  t.is(await esm.handle({}, lambdaContext("fb-esm")), "from esm");

  const { relay: broken } = setup(
    t,
    nextPrefix(),
    { fallback: "missing.handler" },
    { baseDir: dir, presenceGraceMs: 50 },
  );
  const error = await t.throwsAsync(broken.handle({}, lambdaContext("fb-3")));
  t.is(error?.name, "PulumiLive.Fallback");
  t.true(
    error?.message.startsWith(
      `PULUMI_LIVE_FALLBACK names "missing.handler", but ${join(dir, "missing")} could not be loaded`,
    ),
  );
});

test("an unreachable broker fails with PulumiLive.NoConnection naming the reason", async (t) => {
  const { relay } = setup(
    t,
    nextPrefix(),
    { broker: { kind: "url", url: "ws://127.0.0.1:1" } },
    { connectTimeoutMs: 300 },
  );
  const error = await t.throwsAsync(relay.handle({}, lambdaContext("nc-1")));
  t.is(error?.name, "PulumiLive.NoConnection");
  t.regex(
    error?.message ?? "",
    /^Could not connect to the MQTT broker at ws:\/\/127\.0\.0\.1:1 within 300 ms: .*ECONNREFUSED.*\. Check that the function can reach it and that its role may connect, or redeploy it with `pulumi up`\.$/,
  );
});

test("a connection idle past a keepalive (a frozen environment) is renewed before use", async (t) => {
  const prefix = nextPrefix();
  await session(t, prefix);
  let clock = 1_000_000;
  const { relay } = setup(t, prefix, {}, { now: () => clock, staleAfterMs: 75_000 });
  t.is(await relay.handle({}, lambdaContext("fresh")), "fresh");
  t.is(relay.connection.connects, 1);
  clock += 60_000;
  t.is(await relay.handle({}, lambdaContext("warm")), "warm");
  t.is(relay.connection.connects, 1);
  clock += 80_000;
  t.is(await relay.handle({}, lambdaContext("thawed")), "thawed");
  t.is(relay.connection.connects, 2);
});

test("a named session that never acknowledges counts as none: the fallback runs", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pulumi-live-fallback-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "real.js"), "exports.handler = async () => 'ran the fallback';\n");
  const prefix = nextPrefix();
  // A ghost: a presence replayed from an earlier run, whose session is gone.
  const ghost = await session(t, prefix, "ghost");
  ghost.onRequest = () => undefined;
  const { relay, logs } = setup(t, prefix, { fallback: "real.handler", ackTimeoutMs: 200 }, { baseDir: dir });
  t.is(await relay.handle({}, lambdaContext("ghost-1")), "ran the fallback");
  // Sent once more before giving up (IoT Core drops a message over a quota without a word).
  t.is(ghost.requests.length, 2);
  t.regex(logs[0], /^\[pulumi-live\] PulumiLive\.NoAck: running the deployed handler real\.handler instead/);
});

test("a cold stub that finds garbage on the presence topic waits for the session's repair", async (t) => {
  const prefix = nextPrefix();
  const fake = await FakeSession.start(broker.url, key, prefix);
  t.teardown(() => fake.close());
  // Anyone who may publish there, without the key, leaves something unopenable retained...
  const topic = fake.topics.presence;
  await fake.client.publishAsync(topic, Buffer.from("switched off"), { qos: 1, retain: true });
  const { relay } = setup(t, prefix, {}, { presenceGraceMs: 50 });
  const garbage = new Promise<void>((resolve) => {
    const watcher = setInterval(() => {
      if (relay.drops.unsealed > 0) {
        clearInterval(watcher);
        resolve();
      }
    }, 5);
    t.teardown(() => clearInterval(watcher));
  });
  const result = relay.handle({}, lambdaContext("cold-1"));
  await garbage;
  // ...and the serving session puts its presence back within its repair interval (1 s): later than the
  // stub's usual wait for a retained presence (50 ms here), which is the point.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await fake.announce(fake.presenceMessage());
  t.is(await result, "cold-1");
});

test("a warm stub keeps the newer session when an older one's presence or last will comes later", async (t) => {
  const prefix = nextPrefix();
  const older = await FakeSession.start(broker.url, key, prefix, "session-a");
  t.teardown(() => older.close());
  older.onRequest = () => undefined;
  const newer = await session(t, prefix, "session-b");
  newer.epoch = 5;
  await newer.announce(newer.presenceMessage());
  const { relay } = setup(t, prefix);
  t.is(await relay.handle({}, lambdaContext("warm-1")), "warm-1");
  // An older session's presence (a replayed capture, or one reconnecting after a sleep), then its will.
  const seen = presenceReaches(relay, () => true);
  await older.announce(older.presenceMessage());
  await older.announce(older.presenceMessage(false));
  await newer.announce(newer.presenceMessage());
  await seen;
  t.is(relay.connection.presence?.sessionId, "session-b");
  t.is(await relay.handle({}, lambdaContext("warm-2")), "warm-2");
  t.deepEqual(
    newer.requests.map((r) => [r.requestId, r.sessionId]),
    [
      ["warm-1", "session-b"],
      ["warm-2", "session-b"],
    ],
  );
});
