/**
 * The chaos run's faults on local mode's own shape: the session in the broker's process on its in-process
 * link (which `npm run chaos` does not reach: its sessions run in processes of their own and connect over
 * WebSocket through the fault proxy), the stubs through the fault proxy with their packets dropped,
 * doubled, reordered and delayed, and the session's link cut and stalled while invocations run. Every
 * invocation must be answered or fail with the stub's clear error; none may run twice or be lost.
 */
import test from "ava";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Duplex } from "node:stream";
import { clientId, clientIdPrefix, generateKey, topicPrefix, type StackNamespace } from "../../protocol";
import { startLocalRuntime } from "../../cli/commands/local-runtime";
import { BROKER_USER, startBroker } from "../../cli/local/broker";
import { InProcessConnection } from "../../cli/local/in-process-connection";
import { jsonReporter } from "../../cli/reporter";
import { Session } from "../../cli/session";
import { Teardown } from "../../cli/teardown";
import { createRelay, type Relay } from "../../stub/relay";
import { FaultProxy } from "../chaos/fault-proxy";
import { Random } from "../chaos/random";
import { CHAOS_HANDLER, drawInvocation, judge, type Outcome } from "../chaos/workload";
import { lambdaContext } from "../stub/harness";

const INVOCATIONS = 150;
const ENVIRONMENTS = 4;
const TIMEOUT_MS = 8000;

test("the in-process session link survives cuts and stalls: answered or failed clearly, once each", async (t) => {
  const seed = Date.now() % 2147483647;
  t.log(`seed ${seed}`);
  const random = new Random(seed);
  const dir = await mkdtemp(path.join(tmpdir(), "pulumi-live-inproc-faults-"));
  const cleanup = new Teardown();
  t.teardown(async () => {
    await cleanup.run(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  const namespace: StackNamespace = {
    organization: "test",
    project: "inproc",
    stack: "faults",
    id: "0a1b2c",
  };
  const prefix = topicPrefix(namespace);
  const key = generateKey();
  const password = "per-run-secret";
  const runsFile = path.join(dir, "runs.log");
  await writeFile(path.join(dir, "chaos.ts"), CHAOS_HANDLER);
  await writeFile(runsFile, "");
  const broker = await startBroker({ password, prefix });
  cleanup.add("the broker", () => broker.close());
  const proxy = await FaultProxy.start({ kind: "ws", url: broker.url }, random.fork());
  cleanup.add("the proxy", () => proxy.close());
  const reporter = jsonReporter(() => undefined);
  const runtime = await startLocalRuntime({
    functions: [
      { name: "chaos", functionId: "chaos", file: path.join(dir, "chaos.ts"), exportName: "handler" },
    ],
    root: dir,
    watch: false,
    concurrency: 4,
    record: false,
    reporter,
    cleanup,
  });
  const links: Duplex[] = [];
  const session = new Session({
    key,
    prefix,
    functions: runtime.served,
    runner: runtime.pool,
    events: reporter,
    connect: (will, suffix) =>
      InProcessConnection.connect({
        broker,
        clientId: clientId(clientIdPrefix(namespace, "session"), suffix),
        username: BROKER_USER,
        password,
        will,
        onLink: (link) => links.push(link),
      }),
  });
  cleanup.add("the session", () => session.close());
  await session.start();

  proxy.faults = { drop: 0.003, duplicate: 0.01, reorder: 0.01, delay: 0.01, delayMs: [20, 400] };
  const relays: Relay[] = Array.from({ length: ENVIRONMENTS }, () =>
    createRelay(
      {
        prefix,
        functionId: "chaos",
        key,
        clientPrefix: clientIdPrefix(namespace, "stub"),
        stack: "inproc/faults",
        broker: { kind: "url", url: proxy.url, password },
        ackTimeoutMs: 1500,
      },
      { env: { CHAOS_RUNS: runsFile, AWS_REGION: "eu-west-1" }, log: () => undefined },
    ),
  );
  cleanup.add("the relays", () => Promise.allSettled(relays.map((r) => r.close())).then(() => undefined));

  const outcomes: Outcome[] = [];
  let issued = 0;
  const workload = random.fork();
  const environment = async (relay: Relay) => {
    while (issued < INVOCATIONS) {
      issued++;
      const invocation = drawInvocation(workload, TIMEOUT_MS);
      const begun = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const never = new Promise<{ error: unknown }>((resolve) => {
        timer = setTimeout(() => resolve({ error: new Error("never settled") }), TIMEOUT_MS + 5000);
      });
      const settled = await Promise.race([
        relay.handle(invocation.event, lambdaContext(invocation.requestId, TIMEOUT_MS)).then(
          (result) => ({ result }),
          (error: unknown) => ({ error }),
        ),
        never,
      ]);
      clearTimeout(timer);
      const outcome = judge(invocation, settled, Date.now() - begun);
      outcomes.push(outcome);
      // As in the chaos run: a caller whose invocation failed comes back a little later (a retry, a
      // queue), so the invocations are not all spent failing fast in the moment the session is away.
      if (outcome.kind !== "answered") await new Promise((resolve) => setTimeout(resolve, 300));
    }
  };
  const sending = Promise.all(relays.map(environment));
  // The session's link: cut (the broker sees it gone, publishes the will; the session reconnects and
  // announces itself again) or stalled (its writes held, as a congested socket would), every 400 ms.
  const schedule = random.fork();
  let cuts = 0;
  let stalls = 0;
  let finished = false;
  void sending.finally(() => (finished = true));
  while (!finished) {
    await new Promise((resolve) => setTimeout(resolve, 400));
    const link = links.at(-1);
    if (!link || link.destroyed || finished) continue;
    if (schedule.chance(0.5)) {
      cuts++;
      link.destroy();
    } else {
      stalls++;
      link.cork();
      setTimeout(() => link.uncork(), schedule.between(100, 1500));
    }
  }
  await sending;

  const runs = (await readFile(runsFile, "utf8")).split("\n").filter(Boolean);
  const counts = new Map<string, number>();
  for (const id of runs) counts.set(id, (counts.get(id) ?? 0) + 1);
  const ranTwice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  const lost = outcomes.flatMap((o) => (o.kind === "lost" ? [o.why] : []));
  const answered = outcomes.filter((o) => o.kind === "answered").length;
  t.log(
    `${answered} of ${outcomes.length} answered; ${cuts} cuts, ${stalls} stalls; proxy ${JSON.stringify(proxy.counts)}`,
  );
  t.is(outcomes.length, INVOCATIONS);
  t.deepEqual(ranTwice, []);
  t.deepEqual(lost, []);
  t.true(cuts + stalls > 0, "the run ended before any fault on the session's link");
  // Faults come and go; most invocations still get through.
  t.true(answered > INVOCATIONS / 2, `only ${answered} answered`);
  // Healed, the session serves again: one of a few invocations in a row gets through (each one waits for
  // its answer or the stub's clear failure, so the loop is bounded by its count).
  proxy.heal();
  let after: Outcome | undefined;
  for (let i = 0; i < 10 && after?.kind !== "answered"; i++) {
    const invocation = drawInvocation(workload, TIMEOUT_MS);
    const settled = await relays[0]
      .handle(invocation.event, lambdaContext(invocation.requestId, TIMEOUT_MS))
      .then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );
    after = judge(invocation, settled, 0);
  }
  t.deepEqual(after, { kind: "answered" });
  t.is(session.phase, "serving");
});
