/** The stand-in refuses what AWS IoT Core refuses (see rules.ts for where each rule is documented). */
import test from "ava";
import { once } from "node:events";
import type { MqttClient } from "mqtt";
import { developerPolicyDocument, stubPolicyDocument } from "../../core/iot-policy";
import { presignIotUrl } from "../../stub/sigv4";
import { addIdentity, connectAs } from "./clients";
import { IotCoreStandIn } from "./stand-in";

const scope = {
  partition: "aws",
  region: "eu-west-1",
  accountId: "123456789012",
  prefix: "pl/demo/dev",
  stubClientPrefix: "pl-abc-",
  sessionClientPrefix: "pl-abc-",
};

async function setup(
  t: { teardown(fn: () => unknown): void },
  limits?: Parameters<typeof IotCoreStandIn.start>[0],
) {
  const standIn = await IotCoreStandIn.start(limits);
  t.teardown(() => standIn.close());
  const stub = await addIdentity(
    standIn,
    "arn:aws:sts::123456789012:assumed-role/api-role/api-fn",
    { iot: stubPolicyDocument(scope, "api") },
    { temporary: true },
  );
  const developer = await addIdentity(standIn, "arn:aws:iam::123456789012:user/dev", {
    dev: developerPolicyDocument(scope),
  });
  return { standIn, stub, developer };
}

function closedOf(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.once("close", () => resolve()));
}

function end(t: { teardown(fn: () => unknown): void }, client: MqttClient): MqttClient {
  // Bounded: mqtt.js may not call back for a client the broker already closed.
  t.teardown(() =>
    Promise.race([
      new Promise<void>((resolve) => client.end(true, {}, () => resolve())),
      new Promise((resolve) => setTimeout(resolve, 1000)),
    ]),
  );
  return client;
}

/** The HTTP status of a WebSocket upgrade to `url`. */
async function upgradeStatus(standIn: IotCoreStandIn, url: string): Promise<number> {
  const { default: WebSocket } = await import("ws");
  const { readFileSync } = await import("node:fs");
  const socket = new WebSocket(url, ["mqtt"], { ca: readFileSync(standIn.caFile) });
  socket.on("error", () => undefined);
  const [, response] = (await Promise.race([
    once(socket, "unexpected-response"),
    once(socket, "open").then(() => [undefined, { statusCode: 101 }]),
  ])) as [unknown, { statusCode: number }];
  socket.terminate();
  return response.statusCode;
}

test("SigV4: a good signature upgrades; a wrong secret, a missing token or an old signature get 403", async (t) => {
  const { standIn, stub } = await setup(t);
  const sign = (credentials: typeof stub, date?: Date) =>
    presignIotUrl({ endpoint: standIn.endpoint, region: standIn.region, credentials, date });
  t.is(await upgradeStatus(standIn, sign(stub)), 101);
  t.is(await upgradeStatus(standIn, sign({ ...stub, secretAccessKey: "wrong" })), 403);
  t.is(await upgradeStatus(standIn, sign({ ...stub, sessionToken: undefined })), 403);
  t.is(await upgradeStatus(standIn, sign(stub, new Date(Date.now() - 6 * 60_000))), 403);
  standIn.principals.expire(stub.accessKeyId);
  t.is(await upgradeStatus(standIn, sign(stub)), 403);
  t.deepEqual(
    standIn.events.filter((e) => e.type === "refused").map((e) => e.reason),
    [
      "WebSocket handshake: the request signature does not match",
      "WebSocket handshake: the security token included in the request is invalid",
      "WebSocket handshake: the signature has expired",
      "WebSocket handshake: the security token included in the request is expired",
    ],
  );
});

test("iot:Connect with connect attributes: the developer may not ask for a persistent session", async (t) => {
  const { standIn, developer } = await setup(t);
  const will = { topic: "pl/demo/dev/presence", payload: Buffer.from("x"), retain: true, qos: 1 as const };
  end(t, await connectAs(standIn, developer, { clientId: "pl-abc-cli-1", will }));
  const refused = await t.throwsAsync(
    connectAs(standIn, developer, { clientId: "pl-abc-cli-2", will, clean: false }),
  );
  t.regex(refused?.message ?? "", /Not authorized/i);
  const denied = await standIn.event((e) => e.type === "denied" && e.clientId === "pl-abc-cli-2");
  t.is(denied.resource, "arn:aws:iot:eu-west-1:123456789012:client/pl-abc-cli-2");
  await t.throwsAsync(connectAs(standIn, developer, { clientId: "someone-else" }));
});

test("one connection per client id: a second CONNECT with the same id closes the first", async (t) => {
  const { standIn, stub } = await setup(t);
  const first = end(t, await connectAs(standIn, stub, { clientId: "pl-abc-stub-same" }));
  const closed = closedOf(first);
  // QUOTAS: one CONNECT per second per client id.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  end(t, await connectAs(standIn, stub, { clientId: "pl-abc-stub-same" }));
  await closed;
  t.deepEqual(standIn.clients(), ["pl-abc-stub-same"]);
  // Too soon after: throttled, no CONNACK (the client gives up; the second stays connected).
  const early = connectAs(standIn, stub, { clientId: "pl-abc-stub-same", connectTimeout: 1500 });
  early.then(
    (client) => client.end(true),
    () => undefined,
  );
  await standIn.event(
    (e) => e.type === "throttled" && e.reason === "CONNECT requests per second per client ID",
  );
  t.deepEqual(standIn.clients(), ["pl-abc-stub-same"]);
});

test("a PUBLISH over 128 KB closes the connection; one at the limit goes through", async (t) => {
  const { standIn, stub } = await setup(t);
  const client = end(t, await connectAs(standIn, stub, { clientId: "pl-abc-stub-big" }));
  await client.publishAsync("pl/demo/dev/req/api", Buffer.alloc(128 * 1024), { qos: 1 });
  const closed = closedOf(client);
  client.publish("pl/demo/dev/req/api", Buffer.alloc(128 * 1024 + 1), { qos: 1 });
  await closed;
  const refused = await standIn.event((e) => e.type === "refused" && e.clientId === "pl-abc-stub-big");
  t.is(refused.reason, `payload of ${128 * 1024 + 1} bytes`);
});

test("publishes over the per-connection quota are dropped without PUBACK", async (t) => {
  const { standIn, stub, developer } = await setup(t, { limits: { publishesPerSecond: 20 } });
  const session = end(t, await connectAs(standIn, developer, { clientId: "pl-abc-cli-q" }));
  let received = 0;
  session.on("message", () => received++);
  await session.subscribeAsync("pl/demo/dev/req/+", { qos: 1 });
  const client = end(t, await connectAs(standIn, stub, { clientId: "pl-abc-stub-q" }));
  let acked = 0;
  for (let i = 0; i < 40; i++) {
    // Those never acknowledged fail when the client closes at the end.
    client.publishAsync("pl/demo/dev/req/api", Buffer.from("x"), { qos: 1 }).then(
      () => acked++,
      () => undefined,
    );
  }
  const throttled = () =>
    standIn.events.filter((e) => e.type === "throttled" && e.reason === "inbound publish quota").length;
  // Bounded wait until every publish is either acknowledged or throttled.
  for (let waited = 0; acked + throttled() < 40 && waited < 5000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.is(acked + throttled(), 40);
  t.true(throttled() >= 10, `${throttled()} throttled`);
  // What was throttled was neither acknowledged nor delivered; what was acknowledged was delivered,
  // unless the subscriber's own quota (the same 20 a second, receiving) was used up.
  const outbound = () =>
    standIn.events.filter((e) => e.type === "throttled" && e.reason === "outbound publish quota").length;
  for (let waited = 0; received + outbound() < acked && waited < 5000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.is(received + outbound(), acked);
});

test("topic rules: too long, too deep, reserved, and filters past the per-connection quota are refused", async (t) => {
  const { standIn, developer } = await setup(t, { limits: { maxSubscriptionsPerConnection: 3 } });
  const client = end(t, await connectAs(standIn, developer, { clientId: "pl-abc-cli-t" }));
  const grant = (filter: string) =>
    client.subscribeAsync(filter, { qos: 1 }).then(
      (g) => g[0].qos,
      (e: { packet?: { granted?: number[] } }) => e.packet?.granted?.[0],
    );
  t.is(await grant("pl/demo/dev/req/+"), 1);
  t.is(await grant(`pl/demo/dev/req/${"x".repeat(250)}`), 128);
  t.is(await grant("pl/demo/dev/req/a/b/c/d/e"), 128);
  t.is(await grant("$aws/things/x/shadow/update"), 128);
  t.is(await grant("$share/g/pl/demo/dev/req/+"), 1);
  t.is(await grant("pl/demo/dev/presence"), 1);
  t.is(await grant("pl/demo/dev/req/api"), 128);
  await standIn.event((e) => e.type === "refused" && e.reason === "subscriptions per connection");
});

test("a shared subscription hands each message to one member; retained messages only to exact filters", async (t) => {
  const { standIn, stub, developer } = await setup(t);
  const members = await Promise.all(
    [0, 1, 2].map((i) => connectAs(standIn, developer, { clientId: `pl-abc-cli-s${i}` })),
  );
  const counts = [0, 0, 0];
  for (const [i, m] of members.entries()) {
    end(t, m);
    m.on("message", () => counts[i]++);
    await m.subscribeAsync("$share/group/pl/demo/dev/req/+", { qos: 1 });
  }
  const publisher = end(t, await connectAs(standIn, stub, { clientId: "pl-abc-stub-s" }));
  for (let i = 0; i < 30; i++)
    await publisher.publishAsync("pl/demo/dev/req/api", Buffer.from(String(i)), { qos: 1 });
  await publisher.publishAsync("pl/demo/dev/req/api", Buffer.from("last"), { qos: 1 });
  // Every publish was acknowledged; deliveries follow within a moment (bounded wait).
  for (let waited = 0; counts.reduce((a, b) => a + b) < 31 && waited < 5000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.is(
    counts.reduce((a, b) => a + b),
    31,
  );
  t.true(
    counts.every((c) => c > 0),
    counts.join(","),
  );

  // Retained: a wildcard subscriber does not get it on subscribing; an exact one does.
  const admin = await addIdentity(standIn, "arn:aws:iam::123456789012:user/admin", {
    all: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["iot:*"], Resource: ["*"] }] },
  });
  const session = end(t, await connectAs(standIn, admin, { clientId: "retainer" }));
  await session.publishAsync("pl/demo/dev/presence", Buffer.from("here"), { qos: 1, retain: true });
  const reader = end(t, await connectAs(standIn, admin, { clientId: "reader" }));
  const got: string[] = [];
  reader.on("message", (topic, payload, packet) =>
    got.push(`${topic} ${payload.toString()} ${packet.retain}`),
  );
  const first = new Promise((resolve) => reader.once("message", resolve));
  await reader.subscribeAsync("pl/demo/+/presence", { qos: 1 });
  await reader.subscribeAsync("pl/demo/dev/presence", { qos: 1 });
  await first;
  // One retained message: for the exact filter, not for the wildcard one subscribed first.
  t.deepEqual(got, ["pl/demo/dev/presence here true"]);
});
