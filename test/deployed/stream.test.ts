/**
 * A streamed response through the AWS IoT Core stand-in: `serve` against the stack, the deployed stub's
 * relay as a streaming handler. The chunks must keep within IoT Core's packet size and quotas (the
 * stand-in throttles and reports what goes over, as IoT Core drops it), arrive whole and in order, and
 * the first must come long before the last: a stub receives on one connection, at most 512 KiB a second.
 */
import { createHash } from "node:crypto";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { writeExports } from "../discovery/fake-pulumi";
import type { Streamed } from "../iot-core/stub-driver";
import { workerThroughStandIn } from "./worker-through-stand-in";

/** 2 MB that do not compress (bytes from a hash chain), in 64 KB writes, after an HTTP prelude. */
const STREAMING_WORKER = `import { createHash } from "node:crypto";
declare const awslambda: any;
export const handler = awslambda.streamifyResponse(async (event: { bytes: number }, responseStream: any) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: { "x-streamed": "yes" } });
  let block = Buffer.alloc(32);
  for (let sent = 0; sent < event.bytes; ) {
    const parts: Buffer[] = [];
    for (let i = 0; i < 2048 && sent < event.bytes; i++, sent += 32) parts.push((block = createHash("sha256").update(block).digest()));
    if (!stream.write(Buffer.concat(parts))) await new Promise((resolve) => stream.once("drain", resolve));
  }
  stream.end();
});
`;

/** The bytes the worker writes after its prelude. */
function expected(bytes: number): Buffer {
  const parts: Buffer[] = [];
  let block = Buffer.alloc(32);
  for (let sent = 0; sent < bytes; sent += 32)
    parts.push((block = createHash("sha256").update(block).digest()));
  return Buffer.concat(parts);
}

const BYTES = 2 * 1024 * 1024;

let dir: string;
let exportFile: string;
test.before(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "pulumi-live-stream-")));
  exportFile = (await writeExports(dir)).live;
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

test("a 2 MB stream through the stand-in: within IoT Core's quotas, whole, in order, the first bytes early", async (t) => {
  const { standIn, driver } = await workerThroughStandIn(t, {
    exportFile,
    dir,
    workerSource: STREAMING_WORKER,
    relays: 1,
  });

  const [run] = await driver.run({
    rate: 1,
    count: 1,
    extra: { bytes: BYTES },
    stream: true,
    timeoutMs: 60_000,
  });
  t.true(run.ok, run.error);
  const streamed = run.result as Streamed;
  const body = Buffer.from(streamed.body, "base64");
  t.is(streamed.contentType, "application/vnd.awslambda.http-integration-response");
  const delimiter = body.indexOf(Buffer.alloc(8));
  t.deepEqual(JSON.parse(body.subarray(0, delimiter).toString()), {
    statusCode: 200,
    headers: { "x-streamed": "yes" },
  });
  t.true(body.subarray(delimiter + 8).equals(expected(BYTES)), "the stream arrived whole and in order");
  t.log(`2 MB streamed in ${(run.ms / 1000).toFixed(1)} s, first bytes after ${streamed.firstByteMs} ms`);
  // At 90% of 512 KiB/s, 2 MB take over 4 s; the first bytes come within a second or so.
  t.true(run.ms > 4000, `${run.ms} ms: faster than IoT Core lets one connection receive`);
  t.true(streamed.firstByteMs! < run.ms / 2, `first bytes after ${streamed.firstByteMs} of ${run.ms} ms`);
  t.deepEqual(
    standIn.events.filter((e) => e.type === "throttled" || e.type === "refused"),
    [],
  );
});
