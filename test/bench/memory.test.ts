import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { once } from "node:events";
import test from "ava";
import { treeMemory, treeRss } from "../../bench/memory";
import { partsOf, rebuildMemoryRow, type MemorySample } from "../../bench/serve-memory";

const MB = 1048576;
/** The serve bench reads /proc; elsewhere (macOS) this test cannot run, but on CI (Linux) it must. */
const hasProc = existsSync("/proc/self/status");
const procTest = hasProc || process.env.CI === "true" ? test.serial : test.skip;

procTest("treeMemory lists the process first, then a child with the memory it touched", async (t) => {
  // A child that touches 64 MB of anonymous memory and holds it until told to exit.
  const code =
    "const b = Buffer.alloc(64 * 1048576, 1); process.send('ready'); process.on('message', () => process.exit(b[0] - 1));";
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  try {
    await once(child, "message");
    const tree = treeMemory(process.pid);
    t.is(tree[0].pid, process.pid);
    const mine = tree.find((p) => p.pid === child.pid);
    t.truthy(mine, "the child is in the tree");
    t.true(mine!.rss >= 64 * MB, `child RSS ${mine!.rss}`);
    t.true(mine!.anon >= 64 * MB, `child anonymous ${mine!.anon}`);
    t.true(mine!.threads >= 1);
    t.is(mine!.rss, mine!.anon + mine!.file + mine!.shmem);
    // treeRss is the sum of the same parts (read again, so within a few MB of what moved meanwhile).
    const sum = tree.reduce((s, p) => s + p.rss, 0);
    t.true(Math.abs(treeRss(process.pid) - sum) < 16 * MB);
  } finally {
    child.send("exit");
    await once(child, "exit");
  }
});

function sample(serve: number, serveAnon: number, esbuild: number, heapTotal = 60 * MB): MemorySample {
  const proc = (pid: number, name: string, rss: number, anon: number) => ({
    pid,
    name,
    rss,
    anon,
    file: rss - anon,
    shmem: 0,
    threads: 1,
  });
  return {
    heapUsed: 20 * MB,
    heapTotal,
    rss: serve,
    keptAnswers: 0,
    processes: [proc(1, "node", serve, serveAnon), proc(2, "esbuild", esbuild, esbuild)],
  };
}

test("the rebuild memory row says which process the fall and the rise came from", (t) => {
  const samples = [
    partsOf(100, sample(170 * MB, 120 * MB, 18 * MB)),
    partsOf(200, sample(150 * MB, 100 * MB, 18 * MB)),
    partsOf(300, sample(150 * MB, 100 * MB, 30 * MB)),
  ];
  const row = rebuildMemoryRow(1000, samples, 22 * MB, 21 * MB);
  t.is(row.data!.rssLow, -20 * MB);
  t.is(row.data!.lowAtRebuild, 200);
  t.is(row.data!.serveAnonAtLow, -20 * MB);
  t.is(row.data!.esbuildAtLow, 0);
  t.is(row.data!.highAtRebuild, 100);
  t.true(row.met, "−20 MB is within ± 20 MB");
  t.regex(
    row.value,
    /^−20\.0 MB \/ \+0\.0 MB; lowest at 200: serve −20\.0 MB \(anonymous −20\.0 MB\), esbuild's service \+0\.0 MB/,
  );
  t.regex(row.baseline!, /serve 170\.0 MB \(anonymous 120\.0 MB\), esbuild's service 18\.0 MB/);
  const fell = rebuildMemoryRow(
    1000,
    [...samples, partsOf(400, sample(140 * MB, 90 * MB, 18 * MB))],
    22 * MB,
    21 * MB,
  );
  t.false(fell.met, "−30 MB is outside ± 20 MB");
});
