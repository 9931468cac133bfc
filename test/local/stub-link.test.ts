/**
 * In `serve --local`, a thread environment's stub reaches the embedded broker over its thread's port,
 * as the session does in process: no socket, and the broker's rules as for any client. A process
 * environment keeps the WebSocket. A link that breaks ends the invocation with the stub's clear error.
 */
import test, { type ExecutionContext } from "ava";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Duplex } from "node:stream";
import { STUB_ENV, clientIdPrefix, generateKey, topicPrefix, type StackNamespace } from "../../protocol";
import { STUB_BUNDLE } from "../../core/names";
import { startLocalRuntime } from "../../cli/commands/local-runtime";
import { sessionConnector } from "../../cli/commands/serve-local";
import { startBroker, type LocalBroker } from "../../cli/local/broker";
import { LocalFunction, type LocalFunctionOptions } from "../../cli/local/environments";
import { THREAD_LINK_TARGET, type InProcessBroker } from "../../cli/local/thread-broker-link";
import { jsonReporter } from "../../cli/reporter";
import { Session } from "../../cli/session";
import { Teardown } from "../../cli/teardown";

const HANDLER = `export const handler = async (event: { n: number }) => ({ n: event.n, pid: process.pid });\n`;

interface World {
  broker: LocalBroker;
  /** WebSocket connections the broker accepted. */
  sockets: () => number;
  /** A stub function served as `serve --local` serves it; `overrides` change its options. */
  stub(overrides?: Partial<LocalFunctionOptions>, env?: Record<string, string>): LocalFunction;
}

/** The broker, a session on its in-process link serving `echo`, and stub functions for the test. */
async function world(t: ExecutionContext): Promise<World> {
  const dir = await mkdtemp(path.join(tmpdir(), "pulumi-live-stub-link-"));
  const cleanup = new Teardown();
  t.teardown(async () => {
    await cleanup.run((what, error) => t.log(`${what}: ${String(error)}`));
    await rm(dir, { recursive: true, force: true });
  });
  const namespace: StackNamespace = { organization: "test", project: "link", stack: "t", id: "0a1b2c" };
  const prefix = topicPrefix(namespace);
  const key = generateKey();
  const password = "per-run-secret";
  let sockets = 0;
  const broker = await startBroker({ password, prefix, onWebSocket: () => sockets++ });
  cleanup.add("the broker", () => broker.close());
  await writeFile(path.join(dir, "echo.ts"), HANDLER);
  const reporter = jsonReporter(() => undefined);
  const runtime = await startLocalRuntime({
    functions: [{ name: "echo", functionId: "echo", file: path.join(dir, "echo.ts"), exportName: "handler" }],
    root: dir,
    watch: false,
    concurrency: 2,
    record: false,
    reporter,
    cleanup,
  });
  const session = new Session({
    key,
    prefix,
    functions: runtime.served,
    runner: runtime.pool,
    events: reporter,
    // As serve --local connects its session: in process, with the run's password.
    connect: sessionConnector({
      broker,
      secret: password,
      clientPrefix: clientIdPrefix(namespace, "session"),
    }),
  });
  cleanup.add("the session", () => session.close());
  await session.start();
  return {
    broker,
    sockets: () => sockets,
    stub: (overrides = {}, env = {}) => {
      const fn = new LocalFunction({
        name: "echo",
        handlerFile: STUB_BUNDLE,
        handlerExport: "handler",
        timeoutSeconds: 3,
        maxEnvironments: 3,
        broker,
        ...overrides,
        environment: {
          [STUB_ENV.prefix]: prefix,
          [STUB_ENV.functionId]: "echo",
          [STUB_ENV.key]: key.toString("base64"),
          [STUB_ENV.clientPrefix]: clientIdPrefix(namespace, "stub"),
          [STUB_ENV.stack]: "link/t",
          [STUB_ENV.brokerUrl]: broker.url,
          [STUB_ENV.brokerSecret]: password,
          ...env,
        },
      });
      cleanup.add("the stub's environments", () => fn.close());
      return fn;
    },
  };
}

async function call(fn: LocalFunction, n: number): Promise<{ functionError?: string; json: any }> {
  const result = await fn.invoke(Buffer.from(JSON.stringify({ n })), { tail: false });
  return { functionError: result.functionError, json: JSON.parse(result.payload.toString("utf8")) };
}

test("a thread environment's stub reaches the embedded broker over its port: no socket", async (t) => {
  const w = await world(t);
  const links: Duplex[] = [];
  const counted: InProcessBroker = {
    handle: (stream) => {
      links.push(stream);
      w.broker.handle(stream);
    },
  };
  const fn = w.stub({ broker: counted });
  t.is(fn.kind, "thread");
  t.deepEqual((await call(fn, 1)).json, { n: 1, pid: process.pid });
  const together = await Promise.all([2, 3, 4].map((n) => call(fn, n)));
  t.deepEqual(
    together.map((r) => r.json.n),
    [2, 3, 4],
  );
  t.is(fn.environmentCount, 3);
  t.is(links.length, 3, "one link per environment's connection");
  t.is(w.sockets(), 0, "a stub connected over WebSocket");
});

test("a process environment's stub keeps the WebSocket", async (t) => {
  const w = await world(t);
  const fn = w.stub({ kind: "process", maxEnvironments: 1 });
  t.deepEqual((await call(fn, 5)).json.n, 5);
  t.is(w.sockets(), 1);
});

test("over the port the broker still checks the stub's password", async (t) => {
  const w = await world(t);
  const fn = w.stub({ timeoutSeconds: 2, maxEnvironments: 1 }, { [STUB_ENV.brokerSecret]: "wrong" });
  const { functionError, json } = await call(fn, 6);
  t.is(functionError, "Unhandled");
  t.is(json.errorType, "PulumiLive.NoConnection");
  t.true(json.errorMessage.includes(`Could not connect to ${THREAD_LINK_TARGET} within`), json.errorMessage);
  t.regex(json.errorMessage, /Bad username or password/);
  t.is(w.sockets(), 0);
});

test("a broken port ends the environment's invocation with the stub's clear error", async (t) => {
  const w = await world(t);
  let cuts = 0;
  // Every link is cut as soon as serve gets it, as a port whose other side went away.
  const broken: InProcessBroker = {
    handle: (stream) => {
      cuts++;
      stream.on("error", () => undefined); // the cut's own error, as aedes would take it
      stream.destroy(new Error("cut"));
    },
  };
  const fn = w.stub({ broker: broken, timeoutSeconds: 2, maxEnvironments: 1 });
  const { functionError, json } = await call(fn, 7);
  t.is(functionError, "Unhandled");
  t.is(json.errorType, "PulumiLive.NoConnection");
  t.true(json.errorMessage.includes(`Could not connect to ${THREAD_LINK_TARGET} within`), json.errorMessage);
  t.regex(
    json.errorMessage,
    /serve's end of the link to its broker closed without ending the MQTT connection/,
  );
  t.true(cuts >= 1);
  t.is(w.sockets(), 0);
});
