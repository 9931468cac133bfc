/**
 * Serving within AWS IoT Core's quotas: one connection carries at most 100 messages a second each way,
 * so a session that takes every request of the stack on one connection loses what is over (IoT Core
 * drops it without a word). 300 invocations a second for 10 s through the stand-in, answered correctly
 * and exactly once.
 */
import test from "ava";
import { mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { writeExports } from "../discovery/fake-pulumi";
import { COUNTING_WORKER } from "../serve/harness";
import { workerThroughStandIn } from "./worker-through-stand-in";

let dir: string;
let exportFile: string;
test.before(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "pulumi-live-quota-")));
  exportFile = (await writeExports(dir)).live;
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

test("300 invocations a second for 10 s: every answer correct and exactly once, nothing throttled", async (t) => {
  const { standIn, driver, project } = await workerThroughStandIn(t, {
    exportFile,
    dir,
    workerSource: COUNTING_WORKER,
    relays: 64,
    environment: (root) => ({ COUNT_FILE: path.join(root, "count.log") }),
  });

  const countFile = path.join(project.root, "count.log");
  const outcomes = await driver.run({ rate: 300, count: 3000, timeoutMs: 30_000 });
  const throttled = standIn.events.filter((e) => e.type === "throttled");
  const byReason = new Map<string, number>();
  for (const e of throttled)
    byReason.set(`${e.clientId} ${e.reason}`, (byReason.get(`${e.clientId} ${e.reason}`) ?? 0) + 1);
  if (throttled.length) t.log([...byReason].map(([k, v]) => `${v}× ${k}`).join("\n"));
  const failed = outcomes.filter((o) => !o.ok);
  t.deepEqual(failed.slice(0, 5), [], `${failed.length} failed`);
  t.deepEqual(
    outcomes.filter((o) => JSON.stringify(o.result) !== JSON.stringify({ id: o.id, live: "true" })).length,
    0,
  );
  const executed = (await readFile(countFile, "utf8")).split("\n").filter(Boolean);
  t.is(executed.length, 3000);
  t.is(new Set(executed).size, 3000);
  t.deepEqual(
    standIn.events.filter((e) => e.type === "throttled"),
    [],
  );
  // Served at the offered rate. One connection answers at most 90 a second (the pace it keeps to), so
  // 3000 answers take it at least 33 s and its last answer comes 23 s or more after it was asked for;
  // eight take a ninth of that. The bound leaves room for a loaded machine (12 s seen under the full suite).
  const ms = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  t.log(`from scheduled start to answer: p50 ${ms[1500]} ms, p99 ${ms[2970]} ms, max ${ms[2999]} ms`);
  t.true(ms[2999] < 20_000, `the slowest answer took ${ms[2999]} ms`);
});
