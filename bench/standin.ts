import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { MAX_CONNECTION_BYTES_PER_SECOND } from "../protocol";
import { readDeployment } from "../test/deployed/deployment";
import { cliEnv, readmePolicy, roleIdentity, spawnPulumiLive } from "../test/deployed/harness";
import { demoProject, fakePulumi, writeExports } from "../test/discovery/fake-pulumi";
import { addIdentity } from "../test/iot-core/clients";
import { IotCoreStandIn } from "../test/iot-core/stand-in";
import { startStubDriver, type Outcome } from "../test/iot-core/stub-driver";
import { ms, percentile, type Row } from "./stats";

/** Echoes the event: a response as large as the request. */
const ECHO = "export const handler = async (event: unknown) => event;\n";

type Teardown = { teardown(fn: () => unknown): void; run(): Promise<void> };
function teardowns(): Teardown {
  const steps: (() => unknown)[] = [];
  return {
    teardown: (fn) => steps.push(fn),
    run: async () => {
      for (const step of steps.reverse()) await Promise.resolve(step()).catch(() => undefined);
    },
  };
}

/** Invocations per second from the first scheduled start to the last answer. */
function rate(outcomes: Outcome[], started: number, ended: number): number {
  return outcomes.filter((o) => o.ok).length / ((ended - started) / 1000);
}

/**
 * The deployed path through the AWS IoT Core stand-in (TLS, SigV4, IAM, quotas): stubs (the stub's relay
 * code) in a process of their own, `pulumi-live serve` in another, the stand-in in this one.
 */
export async function benchStandIn(): Promise<Row[]> {
  const t = teardowns();
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "pulumi-live-bench-standin-")));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  try {
    const exportFile = (await writeExports(dir)).live;
    const worker = (await readDeployment(exportFile)).find((fn) => fn.name === "worker")!;
    const standIn = await IotCoreStandIn.start();
    t.teardown(() => standIn.close());
    const developer = await addIdentity(standIn, "arn:aws:iam::123456789012:user/dev", {
      readme: await readmePolicy(),
    });
    const project = await demoProject({ worker: ECHO });
    t.teardown(() => project.remove());
    const pulumi = await fakePulumi({ export: exportFile });
    t.teardown(() => pulumi.remove());
    const credentials = await roleIdentity(standIn, worker);
    const env = worker.environment;
    const stub = {
      prefix: env.PULUMI_LIVE_PREFIX,
      functionId: env.PULUMI_LIVE_FUNCTION_ID,
      key: env.PULUMI_LIVE_KEY,
      clientPrefix: env.PULUMI_LIVE_CLIENT_PREFIX,
      stack: env.PULUMI_LIVE_STACK,
    };

    const serve = async (connections: number) => {
      const cli = spawnPulumiLive(
        t,
        ["serve", "--stack", "dev", "--cwd", project.root, "--only", "worker", "--no-watch", "--no-record"]
          .concat(["--json", "--connections", String(connections)])
          .concat(["--endpoint", standIn.endpoint, "--ca-file", standIn.caFile]),
        cliEnv(pulumi.env, developer, dir),
      );
      await cli.next((l) => l.type === "ready");
      return async () => {
        cli.child.kill("SIGTERM");
        await cli.exited;
      };
    };
    const driver = async (relays: number) => {
      const d = await startStubDriver(
        { stub, endpoint: standIn.endpoint, region: standIn.region, credentials, relays },
        standIn.caFile,
      );
      t.teardown(d.close);
      return d;
    };
    const rows: Row[] = [];

    // Round trip, 1 KB each way, one environment; and throughput at the offered 300/s (and 600/s).
    let stop = await serve(8);
    const one = await driver(1);
    await one.run({ rate: 50, count: 20, padBytes: 1024, timeoutMs: 10_000 });
    const trips = await one.run({ rate: 20, count: 200, padBytes: 1024, timeoutMs: 10_000 });
    await one.close();
    const tripMs = trips.filter((o) => o.ok).map((o) => o.ms);
    rows.push({
      figure: "stand-in round trip, 1 KB in and out, one environment (p50 / p99)",
      value: `${ms(percentile(tripMs, 50))} / ${ms(percentile(tripMs, 99))} ms`,
    });
    const many = await driver(64);
    const offered = async (perSecond: number, seconds: number) => {
      const started = Date.now();
      const outcomes = await many.run({ rate: perSecond, count: perSecond * seconds, timeoutMs: 30_000 });
      return { outcomes, achieved: rate(outcomes, started, Date.now()) };
    };
    const spread = await offered(300, 10);
    const lost = spread.outcomes.filter((o) => !o.ok).length;
    await stop();
    stop = await serve(1);
    const single = await offered(300, 10);
    await stop();
    rows.push({
      figure: "offered 300 invocations/s for 10 s through the stand-in, 8 connections",
      value: `${spread.achieved.toFixed(0)}/s, ${lost} failed, p99 ${ms(
        percentile(
          spread.outcomes.map((o) => o.ms),
          99,
        ),
      )} ms`,
      baseline: `one connection ${single.achieved.toFixed(0)}/s`,
      ratio: (spread.achieved / single.achieved).toFixed(1),
      goal: "≥ 300/s",
    });
    await many.close();

    // 5 MB request and 5 MB response at IoT Core's pace, against the floor of 512 KiB/s each way.
    stop = await serve(8);
    const big = await driver(1);
    const floorS = (2 * 5 * 1024 * 1024) / MAX_CONNECTION_BYTES_PER_SECOND;
    for (const [label, padRandom] of [
      ["random base64 (compresses to 3/4)", true],
      ["repetitive JSON (compresses well)", false],
    ] as const) {
      const [outcome] = await big.run({
        rate: 1,
        count: 1,
        padBytes: 5 * 1024 * 1024,
        padRandom,
        timeoutMs: 120_000,
      });
      rows.push({
        figure: `5 MB request and 5 MB response through the stand-in, ${label}`,
        value: outcome.ok ? `${(outcome.ms / 1000).toFixed(1)} s` : `failed: ${outcome.error}`,
        baseline: `floor ${floorS.toFixed(1)} s uncompressed`,
        ratio: (outcome.ms / 1000 / floorS).toFixed(2),
      });
    }
    await big.close();
    await stop();
    return rows;
  } finally {
    await t.run();
  }
}
