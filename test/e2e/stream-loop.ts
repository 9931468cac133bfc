import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { InvokeCommand, InvokeWithResponseStreamCommand, LambdaClient } from "@aws-sdk/client-lambda";
import test from "ava";
import { startLocalServer, type LocalServer } from "../../cli/commands/serve-local";
import { RecordingReporter } from "../helpers/recorder";
import { tempProject, type TempProject } from "../runtime/temp-project";
import type { BrokerChoice } from "./loop";
import { STREAM_HANDLERS, heldPeakFrom, patternHash, peakFrom } from "./stream-fixtures";

interface World {
  project: TempProject;
  server: LocalServer;
  reporter: RecordingReporter;
  lambda: LambdaClient;
  stopBroker(): Promise<void>;
}

const PRELUDE =
  '{"statusCode":207,"headers":{"content-type":"text/plain","x-stream":"yes"},"cookies":["flavor=streamed; Path=/"]}';

/** Every event of an InvokeWithResponseStream answer, each with when it came (ms after the call). */
async function invokeStream(world: World, name: string, event: unknown) {
  const started = performance.now();
  const out = await world.lambda.send(
    new InvokeWithResponseStreamCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)) }),
  );
  const chunks: { at: number; data: Buffer }[] = [];
  let complete: { ErrorCode?: string; ErrorDetails?: string } | undefined;
  for await (const part of out.EventStream ?? []) {
    if (part.PayloadChunk?.Payload)
      chunks.push({ at: performance.now() - started, data: Buffer.from(part.PayloadChunk.Payload) });
    if (part.InvokeComplete) complete = { ...part.InvokeComplete };
  }
  return {
    out,
    chunks,
    complete,
    body: Buffer.concat(chunks.map((c) => c.data)),
    total: performance.now() - started,
  };
}

/**
 * Registers the streaming cases of the live loop, through one broker; `skip` (why) registers one
 * skipped test instead, for a broker that is not installed here.
 */
export function registerStreamTests(broker: BrokerChoice, skip?: string): void {
  if (skip) {
    // Counted as skipped, with the reason in its title; CI installs mosquitto and requires it.
    test.skip(`${broker.name}: streaming end to end (${skip})`, () => undefined);
    return;
  }
  let world: World;

  test.before(async () => {
    const project = await tempProject(STREAM_HANDLERS);
    const started = await broker.start();
    const reporter = new RecordingReporter();
    const server = await startLocalServer({
      functions: ["stream=src/stream.handler", "plain=src/plain.handler", "undeclared=src/stream.handler"],
      streaming: ["stream", "plain"],
      cwd: project.root,
      port: 0,
      broker: started.url,
      // The deadline case waits it out; the 50 MB case needs it on a loaded 2-core machine.
      timeoutSeconds: 20,
      watch: false,
      record: false,
      reporter,
    });
    const lambda = new LambdaClient({
      endpoint: server.gateway,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 1,
    });
    world = { project, server, reporter, lambda, stopBroker: started.stop };
  });

  test.after.always(async () => {
    if (!world) return;
    world.lambda.destroy();
    await world.server.close();
    await world.stopBroker();
    await rm(world.project.root, { recursive: true, force: true });
  });

  test.serial(
    `${broker.name}: HTTP to a streaming function: the prelude's status, headers and cookies, the first chunk long before the end`,
    async (t) => {
      const started = performance.now();
      const response = await fetch(`${world.server.gateway}/stream/?mode=slow`);
      t.is(response.status, 207);
      t.is(response.headers.get("x-stream"), "yes");
      t.is(response.headers.get("content-type"), "text/plain");
      t.is(response.headers.get("set-cookie"), "flavor=streamed; Path=/");
      const reader = response.body!.getReader();
      const first = await reader.read();
      const firstAt = performance.now() - started;
      t.is(Buffer.from(first.value).toString(), "first\n");
      let rest = "";
      for (let part = await reader.read(); !part.done; part = await reader.read())
        rest += Buffer.from(part.value).toString();
      const total = performance.now() - started;
      t.is(rest, "second\n");
      // The handler waits 1 s between its writes: the first one must not wait for the second.
      t.true(
        total - firstAt > 700,
        `first byte after ${firstAt.toFixed(0)} ms, all after ${total.toFixed(0)} ms`,
      );
    },
  );

  test.serial(
    `${broker.name}: InvokeWithResponseStream through the SDK: PayloadChunks as written, then InvokeComplete`,
    async (t) => {
      const { out, chunks, complete, body, total } = await invokeStream(world, "stream", { mode: "slow" });
      t.is(out.StatusCode, 200);
      t.is(out.ResponseStreamContentType, "application/vnd.awslambda.http-integration-response");
      t.is(body.toString("latin1"), `${PRELUDE}${"\0".repeat(8)}first\nsecond\n`);
      t.deepEqual(complete, {});
      const first = chunks[0].at;
      t.true(
        total - first > 700,
        `first chunk after ${first.toFixed(0)} ms, complete after ${total.toFixed(0)} ms`,
      );
    },
  );

  test.serial(
    `${broker.name}: a handler error mid-stream: the bytes so far, then Lambda's error`,
    async (t) => {
      const { body, complete } = await invokeStream(world, "stream", { mode: "fail" });
      t.is(body.toString(), "partial");
      t.deepEqual(complete, { ErrorCode: "TypeError", ErrorDetails: "mid-stream failure" });
      // Over HTTP the response is under way: the caller gets the bytes, then the connection is cut.
      const response = await fetch(`${world.server.gateway}/stream/?mode=fail`);
      t.is(response.status, 200);
      const reader = response.body!.getReader();
      t.is(Buffer.from((await reader.read()).value).toString(), "partial");
      await t.throwsAsync(async () => {
        for (let part = await reader.read(); !part.done; part = await reader.read());
      });
    },
  );

  test.serial(`${broker.name}: a caller that goes away stops the local handler's stream`, async (t) => {
    const closed = world.reporter.next((e) => e.type === "log" && e.line.includes("stream closed after"));
    const abort = new AbortController();
    const response = await fetch(`${world.server.gateway}/stream/?mode=endless`, { signal: abort.signal });
    const reader = response.body!.getReader();
    t.regex(Buffer.from((await reader.read()).value).toString(), /^tick 0\n/);
    abort.abort();
    const line = (await closed).line as string;
    t.regex(line, /stream closed after \d+ ticks: The response stream was closed: the caller went away\./);
  });

  test.serial(
    `${broker.name}: the deadline ends a stream that never ends, as Lambda's timeout`,
    async (t) => {
      const { body, complete } = await invokeStream(world, "stream", { mode: "never-ends" });
      t.is(body.toString(), "started");
      t.is(complete?.ErrorCode, "Sandbox.Timedout");
      t.regex(complete?.ErrorDetails ?? "", /Task timed out after \d+\.\d\d seconds/);
    },
  );

  test.serial(
    `${broker.name}: Invoke (not streaming) of a streaming function gets its bytes, or its error`,
    async (t) => {
      const out = await world.lambda.send(
        new InvokeCommand({ FunctionName: "stream", Payload: Buffer.from('{"mode":"slow"}') }),
      );
      t.is(out.FunctionError, undefined);
      t.is(Buffer.from(out.Payload!).toString("latin1"), `${PRELUDE}${"\0".repeat(8)}first\nsecond\n`);
      const failed = await world.lambda.send(
        new InvokeCommand({ FunctionName: "stream", Payload: Buffer.from('{"mode":"fail"}') }),
      );
      t.is(failed.FunctionError, "Unhandled");
      const error = JSON.parse(Buffer.from(failed.Payload!).toString());
      t.is(error.errorType, "TypeError");
      t.is(error.errorMessage, "mid-stream failure");
    },
  );

  test.serial(
    `${broker.name}: a streaming function whose handler does not stream answers its JSON in one chunk`,
    async (t) => {
      const { chunks, complete } = await invokeStream(world, "plain", { n: 1 });
      t.is(chunks.length, 1);
      t.deepEqual(JSON.parse(chunks[0].data.toString()), { plain: true, got: { n: 1 } });
      t.deepEqual(complete, {});
    },
  );

  test.serial(
    `${broker.name}: a streaming handler of a function not declared streaming says how to declare it`,
    async (t) => {
      const out = await world.lambda.send(
        new InvokeCommand({ FunctionName: "undeclared", Payload: Buffer.from("{}") }),
      );
      t.is(out.FunctionError, "Unhandled");
      const error = JSON.parse(Buffer.from(out.Payload!).toString());
      t.is(error.errorType, "PulumiLive.StreamingNotDeclared");
    },
  );

  test.serial(
    `${broker.name}: 50 MB streamed to a slow reader, intact, with flat memory on both sides`,
    async (t) => {
      const bytes = 50 * 1024 * 1024;
      const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
      // A first stream warms the environment and the worker, so their start is not counted.
      const warm = await fetch(`${world.server.gateway}/stream/?mode=big&bytes=1048576`);
      t.is((await warm.arrayBuffer()).byteLength, 1048576);
      // The stub's environment is a worker thread of this process (local mode's default): Linux's /proc
      // measures this whole process, the stub's thread included (the project's tests run on Linux, CI too).
      const hostPeak = await peakFrom("self");
      if (!hostPeak) return void t.fail("no /proc/PID/status here: memory cannot be measured");
      // This process holds the session, its worker, the broker, the gateway and the HTTP client. Sampled
      // every 500 ms (a full collection each): often enough to see a pile-up in the reader's pause.
      const ownPeak = heldPeakFrom(500);
      let ownGrowth = 0;
      let pauseWritten = 0;
      const logged = world.reporter.events.length;
      /** How far the handler says it got (MB), from its log lines. */
      const handlerWrote = () =>
        Math.max(
          0,
          ...world.reporter.events
            .slice(logged)
            .map((e) => /handler wrote (\d+) MB/.exec(String(e.line))?.[1])
            .filter((mbs) => mbs !== undefined)
            .map(Number),
        );
      const hash = createHash("sha256");
      let received = 0;
      try {
        const response = await fetch(`${world.server.gateway}/stream/?mode=big&bytes=${bytes}`);
        const reader = response.body!.getReader();
        const first = await reader.read();
        hash.update(first.value);
        received += first.value!.byteLength;
        // A reader that stops a while: the handler must wait, not pile its bytes up anywhere.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        pauseWritten = handlerWrote();
        for (let part = await reader.read(); !part.done; part = await reader.read()) {
          hash.update(part.value);
          received += part.value.byteLength;
        }
      } finally {
        ownGrowth = ownPeak();
      }
      t.is(received, bytes);
      t.is(hash.digest("hex"), patternHash(bytes));
      const hostGrowth = await hostPeak();
      t.log(
        `handler at ${pauseWritten} MB when the reader resumed; this process (stub thread included) peaked ` +
          `${mb(hostGrowth)} resident above its start; session side peak ${mb(ownGrowth)} more held`,
      );
      // What is in flight is bounded by the windows (session, stub, IPC, worker) and the sockets' buffers.
      t.true(pauseWritten <= 20, `the handler wrote ${pauseWritten} MB while the reader paused`);
      // The resident peak includes garbage not yet collected in each thread the stream crosses (the stub's,
      // this one, the handler's worker): 35 MB for the stub's process alone when it was one, 60–70 MB for
      // this whole process now. A stream kept whole would add 50 MB and more to that.
      t.true(hostGrowth < 100 * 1048576, `this process peaked ${mb(hostGrowth)} above its start`);
      // This process also holds the broker's bridge, the gateway and the HTTP client: what they have in
      // flight when a sample is taken varies (9–26 MB seen with mosquitto under load). A stream kept whole
      // anywhere here would be 50 MB and more; the handler's progress above is the finer check.
      t.true(ownGrowth < 36 * 1048576, `the session's side held ${mb(ownGrowth)} more for a 50 MB stream`);
    },
  );
}
