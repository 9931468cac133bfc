import { readdir, rm, writeFile } from "node:fs/promises";
import test from "ava";
import { InvocationRecorder } from "../../cli/record/recorder";
import type { ServedInvocation } from "../../cli/served-invocation";
import { tempProject } from "../runtime/temp-project";

function served(root: string, n: number): ServedInvocation {
  const received = Date.UTC(2026, 0, 1, 0, 0, 0, n);
  return {
    name: "busy",
    entry: `${root}/src/busy.ts`,
    exportName: "handler",
    requestId: `req-${String(n).padStart(4, "0")}`,
    envId: "env-1",
    event: { n, data: "x".repeat(1000) },
    context: {
      awsRequestId: `req-${n}`,
      functionName: "busy",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:busy",
      memoryLimitInMB: "128",
      logGroupName: "/aws/lambda/busy",
      logStreamName: "stream",
    },
    deadline: received + 3000,
    environment: {},
    logs: "",
    outcome: { ok: true, result: n },
    coldStart: false,
    timings: { received, build: 0, run: 1, returned: received + 1 },
  };
}

/** The records in `dir`, oldest first, by the request file each names (`req-0001.json`). */
async function recordedIn(dir: string): Promise<string[]> {
  return requestFiles(await readdir(dir));
}

/** File names without their time prefix, in order. */
function requestFiles(names: string[]): string[] {
  return [...names].sort().map((name) => name.replace(/^.*_/, ""));
}

test("invocations faster than records are written: only the newest `keep` wait, and they are what stays", async (t) => {
  const project = await tempProject();
  t.teardown(() => project.remove());
  const recorder = new InvocationRecorder({ root: project.root, keep: 3 });
  for (let n = 0; n < 500; n++) recorder.record(served(project.root, n));
  // The first is being written; of the rest only the newest 3 wait (the others would be removed anyway).
  t.true(recorder.waiting <= 3, `waiting: ${recorder.waiting}`);
  await recorder.flush();
  t.is(recorder.waiting, 0);
  t.deepEqual(await recordedIn(project.path(".pulumi-live/log/busy")), [
    "req-0497.json",
    "req-0498.json",
    "req-0499.json",
  ]);
});

test("records cleared while serving: the folder is made again and the next record lands in it", async (t) => {
  const project = await tempProject();
  t.teardown(() => project.remove());
  const recorder = new InvocationRecorder({ root: project.root, keep: 3 });
  recorder.record(served(project.root, 1));
  await recorder.flush();
  await rm(project.path(".pulumi-live/log"), { recursive: true });
  recorder.record(served(project.root, 2));
  await recorder.flush();
  t.deepEqual(await recordedIn(project.path(".pulumi-live/log/busy")), ["req-0002.json"]);
});

test("files others put in the folder count against `keep` once the recorder lists it again", async (t) => {
  const project = await tempProject();
  t.teardown(() => project.remove());
  const errors: string[] = [];
  const recorder = new InvocationRecorder({ root: project.root, keep: 3, onError: (e) => errors.push(e) });
  const dir = project.path(".pulumi-live/log/busy");
  for (let n = 10; n < 13; n++) {
    recorder.record(served(project.root, n));
    await recorder.flush();
  }
  // Older records written by another serve of the same project.
  for (const n of [1, 2]) await writeFile(`${dir}/2025-01-01T00-00-00-00${n}Z_other-${n}.json`, "{}\n");
  for (let n = 13; n < 16; n++) {
    recorder.record(served(project.root, n));
    await recorder.flush();
  }
  t.deepEqual(await recordedIn(dir), ["req-0013.json", "req-0014.json", "req-0015.json"]);
  t.deepEqual(errors, []);
});

test("a record waits before it is written: newer ones replace it meanwhile, and a flush writes at once", async (t) => {
  const project = await tempProject();
  t.teardown(() => project.remove());
  const recorder = new InvocationRecorder({ root: project.root, keep: 3, delayMs: 60_000 });
  for (let n = 0; n < 10; n++) recorder.record(served(project.root, n));
  // Give a writer that would not wait every chance to write (a few turns of the loop and of the disk).
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.deepEqual(await readdir(project.path(".pulumi-live/log")).catch(() => []), []);
  t.is(recorder.waiting, 3);
  await recorder.flush();
  t.deepEqual(await recordedIn(project.path(".pulumi-live/log/busy")), [
    "req-0007.json",
    "req-0008.json",
    "req-0009.json",
  ]);
});

test("without a flush, a record is written once its wait is over", async (t) => {
  const project = await tempProject();
  t.teardown(() => project.remove());
  const recorder = new InvocationRecorder({ root: project.root, keep: 3, delayMs: 20 });
  recorder.record(served(project.root, 1));
  const dir = project.path(".pulumi-live/log/busy");
  let files: string[] = [];
  for (let i = 0; i < 100 && files.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    files = await readdir(dir).catch(() => []);
  }
  t.deepEqual(requestFiles(files), ["req-0001.json"]);
  t.is(recorder.waiting, 0);
});
