import test from "ava";
import mqtt from "mqtt";
import {
  encodeMessage,
  generateKey,
  PROTOCOL_VERSION,
  Reassembler,
  stackTopics,
  type Message,
} from "../../protocol";
import { startBroker } from "../../cli/local/broker";
import { Session } from "../../cli/session";
import { Changes } from "../helpers/wait";
import { apiRequest, connectTo, quietEvents, testPrefix } from "./harness";

test("after a takeover a session runs nothing more: it redirects requests addressed to it and ignores others'", async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const key = generateKey();
  const prefix = testPrefix("takeover");
  const topics = stackTopics(prefix);
  const ran: string[] = [];
  const takeovers: string[] = [];
  const arrivals = new Changes();
  const session = new Session({
    key,
    prefix,
    functions: [
      {
        name: "api",
        functionId: "api",
        exportName: "handler",
        ready: () => Promise.reject(new Error("must not build")),
      },
    ],
    runner: {
      invoke: (request) => {
        ran.push(request.context.awsRequestId);
        return Promise.reject(new Error("must not run"));
      },
    },
    events: quietEvents({
      takeover: (e) => {
        takeovers.push(e.sessionId);
        arrivals.changed();
      },
    }),
    connect: connectTo(broker.url, "takeover", "test"),
  });
  await session.start();
  t.teardown(() => session.close());

  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
  t.teardown(() => client.endAsync());
  const responseTopic = topics.response("api", "env1");
  const reassembler = new Reassembler(key);
  const replies: Message[] = [];
  client.on("message", (topic, payload) => {
    const message = reassembler.push(topic, payload);
    if (topic === responseTopic && message) {
      replies.push(message);
      arrivals.changed();
    }
  });
  await client.subscribeAsync(responseTopic, { qos: 1 });
  const waitForReplies = (count: number) =>
    arrivals.until(
      () => replies.length >= count,
      () => `only ${replies.length} replies`,
    );

  // A newer session announces itself (a live publish, not a retained one from before).
  const newer = {
    type: "presence" as const,
    sessionId: "newer",
    epoch: session.epoch + 1,
    online: true,
    protocol: PROTOCOL_VERSION,
    functions: ["api"],
    startedAt: Date.now(),
  };
  await client.publishAsync(topics.presence, encodeMessage(key, topics.presence, newer)[0], {
    qos: 1,
    retain: true,
  });
  // aedes may pass a later plain publish before a retained one it is still storing: wait for the news.
  await arrivals.until(
    () => takeovers.length > 0,
    () => "no takeover",
  );

  const request = (requestId: string, sessionId: string): Buffer[] =>
    encodeMessage(key, topics.request("api"), apiRequest(requestId, responseTopic, sessionId));
  for (const frame of request("for-newer", "newer"))
    await client.publishAsync(topics.request("api"), frame, { qos: 1 });
  for (const frame of request("for-older", session.sessionId))
    await client.publishAsync(topics.request("api"), frame, { qos: 1 });
  await waitForReplies(1);
  t.deepEqual(takeovers, ["newer"]);
  t.deepEqual(replies, [
    { type: "ack", requestId: "for-older", sessionId: session.sessionId, redirect: true },
  ]);
  t.deepEqual(ran, []);
  // Requests arrive in order on one connection: the one for the newer session was seen, and ignored.
  t.like(session.drops, { elsewhere: 1, redirected: 1, handled: 0 });
});
