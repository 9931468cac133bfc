import test from "ava";
import mqtt from "mqtt";
import { Reassembler, generateKey, readPresence, stackTopics, type PresenceMessage } from "../../protocol";
import { startBroker } from "../../cli/local/broker";
import { Session } from "../../cli/session";
import { FaultProxy } from "../chaos/fault-proxy";
import { Random } from "../chaos/random";
import { connectTo, quietEvents, testPrefix } from "./harness";

/** Resolves once `done()` holds, checking whenever `poke` is called; rejects after `ms`. */
function eventually(done: () => boolean, describe: () => string, ms: number) {
  let poke = () => undefined as void;
  const settled = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(describe())), ms);
    poke = () => {
      if (!done()) return;
      clearTimeout(timer);
      resolve();
    };
  });
  return { settled, poke: () => poke() };
}

test("after a network loss the older session learns it was taken over and the newer one keeps the stack", async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const proxy = await FaultProxy.start({ kind: "ws", url: broker.url }, new Random(1));
  t.teardown(() => proxy.close());
  const key = generateKey();
  const prefix = testPrefix("sleep");
  const takeovers: Record<string, string[]> = { older: [], newer: [] };
  const wait = eventually(
    () => takeovers.older.length > 0,
    () => `takeovers: ${JSON.stringify(takeovers)}`,
    30_000,
  );
  const session = (name: "older" | "newer", url: string) =>
    new Session({
      key,
      prefix,
      functions: [],
      runner: { invoke: () => Promise.reject(new Error("not used")) },
      events: quietEvents({
        takeover: (e) => {
          takeovers[name].push(e.sessionId);
          wait.poke();
        },
      }),
      connect: connectTo(url, "sleep"),
    });
  // The laptop: its session reaches the broker through the proxy.
  const older = session("older", proxy.url);
  await older.start();
  t.teardown(() => older.close());

  // The laptop sleeps: its connection drops and it cannot get back for a while. The broker publishes its
  // last will; meanwhile a second `serve` (another machine, say) starts and takes the stack.
  proxy.refuse = true;
  for (const connection of proxy.open(() => true)) proxy.cut(connection);
  const newer = session("newer", broker.url);
  await newer.start();
  t.teardown(() => newer.close());

  // The laptop wakes up and reconnects.
  proxy.refuse = false;
  await wait.settled;
  t.deepEqual(takeovers, { older: [newer.sessionId], newer: [] });

  // What a stub connecting now finds: the newer session, online.
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
  t.teardown(() => client.endAsync());
  const found = new Promise<PresenceMessage | undefined>((resolve) =>
    client.on("message", (topic, payload) => {
      const reading = readPresence(new Reassembler(key), topic, payload);
      resolve(reading.kind === "presence" ? reading.presence : undefined);
    }),
  );
  await client.subscribeAsync(stackTopics(prefix).presence, { qos: 1 });
  const retained = await found;
  t.is(retained?.sessionId, newer.sessionId);
  t.true(retained?.online);
});
