/**
 * Large payloads at AWS IoT Core's pace: 512 KiB a second per connection, each way, and a stub receives
 * on one connection. A 5 MB request and its 5 MB response go through the stand-in in about 10 s each
 * uncompressed; a caller whose deadline is shorter gets a timeout that says so.
 */
import test from "ava";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { writeExports } from "../discovery/fake-pulumi";
import { workerThroughStandIn } from "./worker-through-stand-in";

/** Echoes the request's pad: a response as large as the request. */
const ECHO_WORKER = `export async function handler(event: { id: string; pad: string }) {
  return { id: event.id, bytes: event.pad.length, pad: event.pad };
}
`;

const MB5 = 5 * 1024 * 1024;

let dir: string;
let exportFile: string;
test.before(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "pulumi-live-large-")));
  exportFile = (await writeExports(dir)).live;
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

test("a 5 MB request and a 5 MB response through the stand-in, and a deadline too short for them", async (t) => {
  const { standIn, driver } = await workerThroughStandIn(t, {
    exportFile,
    dir,
    workerSource: ECHO_WORKER,
    relays: 1,
  });

  const [big] = await driver.run({ rate: 1, count: 1, padBytes: MB5, padRandom: true, timeoutMs: 60_000 });
  t.true(big.ok, big.error);
  const result = big.result as { bytes: number; pad: string };
  t.is(result.bytes, MB5);
  t.is(result.pad.length, MB5);
  t.log(
    `5 MB of random base64 each way: ${(big.ms / 1000).toFixed(1)} s (floor at 512 KiB/s uncompressed: 20 s)`,
  );
  t.deepEqual(
    standIn.events.filter((e) => e.type === "throttled" || e.type === "refused"),
    [],
  );

  // A caller with 5 s left: the request alone needs longer. It fails with the relay's timeout, not a hang.
  const [short] = await driver.run({ rate: 1, count: 1, padBytes: MB5, padRandom: true, timeoutMs: 5000 });
  t.false(short.ok);
  t.regex(short.error ?? "", /^PulumiLive\.Timeout: .*before the function's timeout/);
  t.true(short.ms < 6000, `${short.ms} ms`);
});
