/**
 * One chaos run against one broker: sessions in processes of their own, relay stubs in this one, all of
 * them through the fault proxy; invocations, faults, takeovers, restarts and `kill -9` on a seeded
 * schedule; then the network heals and the invariants are checked.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import mqtt from "mqtt";
import {
  Reassembler,
  clientIdPrefix,
  generateKey,
  readPresence,
  stackTopics,
  topicPrefix,
  type StackNamespace,
} from "../../protocol";
import { createRelay, type Relay } from "../../stub/relay";
import { lambdaContext } from "../stub/harness";
import { startChaosBroker, type BrokerName, type ChaosBroker } from "./brokers";
import { FaultProxy, type FaultKind } from "./fault-proxy";
import type { Random } from "./random";
import { ServeProcesses } from "./sessions";
import { CHAOS_HANDLER, drawInvocation, judge, type Outcome } from "./workload";

export interface ScenarioOptions {
  broker: BrokerName;
  random: Random;
  invocations: number;
  /** Relay stubs (execution environments) sending at once. */
  environments: number;
  /** The functions' timeout (ms). */
  timeoutMs: number;
  /** Mean time between lifecycle events (takeover, restart, kill -9), ms. */
  lifecycleEveryMs: number;
}

export interface ScenarioResult {
  broker: BrokerName;
  invocations: number;
  answered: number;
  failed: Record<string, number>;
  lost: string[];
  ranTwice: string[];
  faults: Record<FaultKind, number>;
  lifecycle: { takeovers: number; restarts: number; kills: number; sessions: number };
  violations: string[];
  peak: { sessionRssMB: number; heldMB: number; answersMB: number; stubHeapMB: number };
  seconds: number;
}

const TICK_MS = 250;

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const { random } = options;
  const dir = await mkdtemp(path.join(tmpdir(), `pulumi-live-chaos-${options.broker}-`));
  const namespace: StackNamespace = {
    organization: "chaos",
    project: "chaos",
    stack: options.broker,
    id: randomBytes(6).toString("hex"),
  };
  const prefix = topicPrefix(namespace);
  const key = generateKey();
  const runsFile = path.join(dir, "runs.log");
  await writeFile(path.join(dir, "chaos.ts"), CHAOS_HANDLER);
  await writeFile(runsFile, "");
  const broker = await startChaosBroker(options.broker, prefix);
  const proxy = await FaultProxy.start(broker.upstream, random.fork());
  const serves = new ServeProcesses({
    url: proxy.url,
    password: broker.password,
    key: key.toString("base64"),
    prefix,
    sessionClientPrefix: clientIdPrefix(namespace, "session"),
    root: dir,
    file: path.join(dir, "chaos.ts"),
    keepAliveSeconds: 4,
    presenceCheckMs: 2000,
  });
  const relays: Relay[] = [];
  const result: ScenarioResult = {
    broker: options.broker,
    invocations: 0,
    answered: 0,
    failed: {},
    lost: [],
    ranTwice: [],
    faults: proxy.counts,
    lifecycle: { takeovers: 0, restarts: 0, kills: 0, sessions: 0 },
    violations: serves.violations,
    peak: { sessionRssMB: 0, heldMB: 0, answersMB: 0, stubHeapMB: 0 },
    seconds: 0,
  };
  try {
    if (!(await serves.start()))
      throw new Error(`the first session did not start: ${serves.violations.join("; ")}`);
    proxy.faults = { drop: 0.003, duplicate: 0.01, reorder: 0.01, delay: 0.01, delayMs: [20, 400] };
    for (let i = 0; i < options.environments; i++) {
      relays.push(
        createRelay(
          {
            prefix,
            functionId: "chaos",
            key,
            clientPrefix: clientIdPrefix(namespace, "stub"),
            stack: `chaos/${options.broker}`,
            broker: {
              kind: "url",
              url: proxy.url,
              ...(broker.password ? { password: broker.password } : {}),
            },
            ackTimeoutMs: 1500,
          },
          { env: { CHAOS_RUNS: runsFile, AWS_REGION: "eu-west-1" }, log: () => undefined },
        ),
      );
    }
    const workload = random.fork();
    let issued = 0;
    const record = (outcome: Outcome) => {
      if (outcome.kind === "answered") result.answered++;
      else if (outcome.kind === "failed")
        result.failed[outcome.code] = (result.failed[outcome.code] ?? 0) + 1;
      else result.lost.push(outcome.why);
    };
    const environment = async (relay: Relay) => {
      while (issued < options.invocations) {
        issued++;
        const invocation = drawInvocation(workload, options.timeoutMs);
        const begun = Date.now();
        // A bound of our own past the deadline: an invocation that never settles is lost, not waited for.
        let timer: NodeJS.Timeout | undefined;
        const never = new Promise<{ error: unknown }>((resolve) => {
          timer = setTimeout(() => resolve({ error: new Error("never settled") }), options.timeoutMs + 5000);
        });
        const settled = await Promise.race([
          relay.handle(invocation.event, { ...lambdaContext(invocation.requestId, options.timeoutMs) }).then(
            (value) => ({ result: value }),
            (error: unknown) => ({ error }),
          ),
          never,
        ]);
        clearTimeout(timer);
        const outcome = judge(invocation, settled, Date.now() - begun);
        record(outcome);
        result.invocations++;
        // A caller whose invocation failed comes back a little later, as a retry or a queue would: the
        // run then spends its invocations mostly while a session serves, not in the gap after a kill.
        if (outcome.kind !== "answered") await new Promise((resolve) => setTimeout(resolve, 300));
      }
    };
    const sending = Promise.all(relays.map(environment));
    let done = false;
    void sending.finally(() => (done = true));
    await chaos(() => done);
    await sending;

    // The network heals: faults stop, and the newest session must end up alone in serving the stack.
    proxy.heal();
    await converge(broker, prefix, key);
  } catch (error) {
    result.violations.push(`the run itself failed: ${(error as Error).stack ?? String(error)}`);
  } finally {
    await Promise.allSettled(relays.map((relay) => relay.close()));
    await serves.closeAll();
    await proxy.close();
    await broker.close();
    const runs = (await readFile(runsFile, "utf8")).split("\n").filter(Boolean);
    const seen = new Map<string, number>();
    for (const id of runs) seen.set(id, (seen.get(id) ?? 0) + 1);
    result.ranTwice = [...seen].filter(([, count]) => count > 1).map(([id, count]) => `${id} ×${count}`);
    result.lifecycle.sessions = serves.all.length;
    result.peak.sessionRssMB = Math.round(serves.peakRss / 1048576);
    result.peak.heldMB = Math.round(serves.peakHeldBytes / 1048576);
    result.peak.answersMB = Math.round(serves.peakAnswerBytes / 1048576);
    await rm(dir, { recursive: true, force: true });
    result.seconds = Math.round((Date.now() - started) / 1000);
  }
  return result;

  /** Faults and lifecycle events on a seeded schedule until the invocations are done. */
  async function chaos(finished: () => boolean): Promise<void> {
    const schedule = random.fork();
    const lifecycleChance = TICK_MS / options.lifecycleEveryMs;
    while (!finished()) {
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
      result.peak.stubHeapMB = Math.max(
        result.peak.stubHeapMB,
        Math.round(process.memoryUsage().heapUsed / 1048576),
      );
      void serves.states(1000);
      // Connections younger than 2 s are left alone: a `serve` that cannot even start is not the point.
      const sessions = (id: string) => id.includes("-cli-");
      if (schedule.chance(TICK_MS / 3000)) {
        const open = proxy.open(() => true, 2000);
        if (open.length > 0) proxy.cut(schedule.pick(open));
      }
      if (schedule.chance(TICK_MS / 6000)) {
        const open = proxy.open(sessions, 2000);
        if (open.length > 0) proxy.pause(schedule.pick(open), schedule.between(1000, 6000));
      }
      if (!schedule.chance(lifecycleChance)) continue;
      const newest = serves.newest();
      const event = schedule.pick(["takeover", "restart", "kill"] as const);
      if (event === "restart" && newest) {
        result.lifecycle.restarts++;
        await serves.end(newest, "SIGINT");
      } else if (event === "kill" && newest) {
        result.lifecycle.kills++;
        await serves.end(newest, "SIGKILL");
      } else result.lifecycle.takeovers++;
      await serves.start();
    }
  }

  /** Waits (bounded) until one session serves, the newest, and the presence a newcomer finds is its. */
  async function converge(target: ChaosBroker, stackPrefix: string, sessionKey: Buffer): Promise<void> {
    const deadline = Date.now() + 30_000;
    let problem = "";
    while (Date.now() < deadline) {
      const alive = await serves.states();
      const newest = alive.at(-1);
      const serving = alive.filter((s) => s.last?.phase === "serving");
      const retained = await retainedPresence(target, stackPrefix, sessionKey);
      problem =
        serving.length !== 1 || serving[0] !== newest
          ? `serving: ${serving.map((s) => `#${s.order}`).join(", ") || "none"}, newest #${newest?.order}`
          : retained !== newest?.sessionId
            ? `the presence names ${retained ?? "nobody"}, the newest is ${newest?.sessionId}`
            : alive.length > 1
              ? `older sessions still running: ${alive
                  .slice(0, -1)
                  .map((s) => `#${s.order} ${s.last?.phase}`)
                  .join(", ")}`
              : "";
      if (!problem) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    result.violations.push(`no single newest session 30 s after the network healed: ${problem}`);
  }
}

/** The session id of the online presence retained on the broker, read past the proxy. */
async function retainedPresence(
  broker: ChaosBroker,
  prefix: string,
  key: Buffer,
): Promise<string | undefined> {
  const client = await mqtt.connectAsync(broker.directUrl, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    clientId: `chaos-watch-${randomBytes(4).toString("hex")}`,
    ...(broker.password ? { username: broker.username, password: broker.password } : {}),
  });
  try {
    const topic = stackTopics(prefix).presence;
    const found = new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 1000);
      client.on("message", (t, payload) => {
        clearTimeout(timer);
        const reading = readPresence(new Reassembler(key), t, payload);
        resolve(
          reading.kind === "presence" && reading.presence.online ? reading.presence.sessionId : undefined,
        );
      });
    });
    await client.subscribeAsync(topic, { qos: 1 });
    return await found;
  } finally {
    await client.endAsync(true);
  }
}
