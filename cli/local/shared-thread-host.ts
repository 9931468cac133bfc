/**
 * Several local Lambda execution environments of one function in one worker thread of `serve`: what
 * `SharedEnvironmentThread` runs, for the stub bundle (`LocalFunctionOptions.shareThreads`). Each
 * environment is an instance of its own of the handler module — its own module state, `process.env`,
 * `process.stdout`, `process.stderr` and console, its own MQTT connections — run by its own
 * `EnvironmentRuntime`; they share the thread's isolate, so its code is compiled once and stays warm
 * however many environments there are.
 *
 * argv: `<handlerFile> <handlerExport>`, a CommonJS file. The thread's `process.env` is the function's;
 * each environment's variables come with its `open`. workerData `{ brokerLink: true }`: the stubs reach
 * serve's embedded broker over the thread's port (as in `lambda-thread-host.ts`).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type { Duplex } from "node:stream";
import { getHeapStatistics } from "node:v8";
import { compileFunction } from "node:vm";
import { MessageChannel, parentPort, workerData, type MessagePort } from "node:worker_threads";
import type { HostMessage, ResultMessage } from "./host-messages";
import { EnvironmentRuntime, lambdaConsole } from "./host-runtime";
import type { SharedHostMessage, SharedParentMessage } from "./shared-thread-messages";
import { THREAD_LINK_TARGET, type BrokerLinkMessage } from "./thread-broker-link";
import { portStream } from "./port-stream";
import { capturedWrite } from "../runtime/captured-write";
import { installAwsLambdaGlobal } from "../../core/awslambda";
import { handlerExport, importError, isLambdaError } from "../../core/lambda-loader";
import { handlerError, unhandledRejectionError, type LambdaHandler } from "../../core/lambda-runtime";
import type { LambdaError } from "../../core/lambda-error";
import { STUB_TRANSPORT, type StubTransport } from "../../protocol/stub-transport";

const port = parentPort;
if (!port)
  throw new Error("shared-thread-host.js must run in a worker thread started by SharedEnvironmentThread");
const parent: MessagePort = port;
const [handlerFile = "", exportPath = "handler"] = process.argv.slice(2);

/** One environment of the thread. */
interface Environment {
  id: number;
  /** There once its module has loaded. */
  runtime?: EnvironmentRuntime;
  /** Its MQTT connections' links to serve's broker, cut when it is discarded. */
  links: Set<Duplex>;
  discarded: boolean;
}

const environments = new Map<number, Environment>();
/** The environment whose module is being loaded: its connections are made then (see `transport`). */
let loading: Environment | undefined;

const post = (message: SharedHostMessage, transfer?: ArrayBuffer[]): void =>
  parent.postMessage(message, transfer);

captureOutput();
if ((workerData as { brokerLink?: boolean } | null)?.brokerLink) installTransport();
installAwsLambdaGlobal();
parent.on("message", (message: SharedParentMessage) => {
  if (message.type === "open") return open(message.id, message.env);
  const environment = environments.get(message.id);
  if (!environment) return;
  if (message.type === "discard") return discard(environment);
  environment.runtime?.receive(message.message);
});
process.on("uncaughtException", (error) => fatal(handlerError(error)));
process.on("unhandledRejection", (reason) => fatal(unhandledRejectionError(reason)));

/** Starts an environment: its own instance of the module, loaded now (its init). */
function open(id: number, env: Record<string, string>): void {
  const environment: Environment = { id, links: new Set(), discarded: false };
  const send = (message: HostMessage, transfer?: ArrayBuffer[]): void => {
    if (!environment.discarded) post({ type: "from", id, message }, transfer);
  };
  const channel = {
    post: send,
    sendResult: (message: ResultMessage, transfer?: ArrayBuffer[]) => {
      send({ ...message, quiet: true }, transfer);
      return Promise.resolve();
    },
    memoryMB: threadMemoryMB,
  };
  const current = (): string | undefined => environment.runtime?.current;
  const write = (stream: "stdout" | "stderr", text: string): void => send({ type: "log", stream, text });
  const scope = {
    console: lambdaConsole(Object.create(console) as Console, current, write),
    // Its own variables and output streams; everything else is the thread's process.
    process: Object.create(process, {
      env: { value: env, writable: true, enumerable: true },
      stdout: { value: outputStream("stdout", write), enumerable: true },
      stderr: { value: outputStream("stderr", write), enumerable: true },
    }) as NodeJS.Process,
  };
  environments.set(id, environment);
  loading = environment;
  let loaded: LambdaHandler | LambdaError;
  try {
    loaded = load(scope, env);
  } finally {
    loading = undefined;
  }
  environment.runtime = new EnvironmentRuntime(channel, env, Promise.resolve(loaded));
}

/** The handler of a new instance of the module, or the error its init failed with. */
function load(
  scope: { console: Console; process: NodeJS.Process },
  env: Record<string, string>,
): LambdaHandler | LambdaError {
  const handlerName = env._HANDLER ?? `index.${exportPath}`;
  try {
    const module = { exports: {} as unknown, id: handlerFile, filename: handlerFile, loaded: false };
    moduleFunction().call(
      module.exports,
      module.exports,
      createRequire(handlerFile),
      module,
      handlerFile,
      dirname(handlerFile),
      scope.console,
      scope.process,
    );
    module.loaded = true;
    return handlerExport(module.exports, exportPath, handlerName);
  } catch (error) {
    const shaped = importError(error);
    return isLambdaError(shaped) ? shaped : handlerError(shaped);
  }
}

let compiled: ((...args: unknown[]) => void) | undefined;

/**
 * The module's code as CommonJS wraps it, compiled once for every instance: each call is an instance of
 * its own, and V8's feedback and optimized code are shared by all. `console` and `process` are parameters,
 * so that each instance's code sees its own.
 */
function moduleFunction(): (...args: unknown[]) => void {
  compiled ??= compileFunction(
    readFileSync(handlerFile, "utf8"),
    ["exports", "require", "module", "__filename", "__dirname", "console", "process"],
    { filename: handlerFile },
  ) as (...args: unknown[]) => void;
  return compiled;
}

/**
 * Ends an environment (its invocation timed out, or the function closes): its links are cut, so it can no
 * longer reach the broker, and nothing more from it reaches the parent. Its code may still run until the
 * thread ends, which the parent arranges once no other environment in it is busy.
 */
function discard(environment: Environment): void {
  environment.discarded = true;
  environments.delete(environment.id);
  // Without an error: the environment's code is not told (nothing of it may run on), the broker's side ends.
  for (const link of environment.links) link.destroy();
  environment.links.clear();
}

/**
 * The stub's way to the broker, as `thread-broker-link.ts` gives a thread of one environment, but each
 * environment's own: the stub takes the transport when its connection is made, in its module's init,
 * and each link it opens is the environment's, cut when it is discarded.
 */
function installTransport(): void {
  const transportOf = (environment: Environment): StubTransport => ({
    target: THREAD_LINK_TARGET,
    open: () => {
      const { port1, port2 } = new MessageChannel();
      if (environment.discarded) {
        port1.close();
        port2.close();
      } else {
        const message: BrokerLinkMessage = { type: "broker-link", port: port2 };
        parent.postMessage(message, [port2]);
      }
      const link = portStream(port1, "serve's end of the link to its broker");
      if (!environment.discarded) {
        environment.links.add(link);
        link.once("close", () => environment.links.delete(link));
      }
      return link;
    },
  });
  const transports = new WeakMap<Environment, StubTransport>();
  Object.defineProperty(globalThis, STUB_TRANSPORT, {
    configurable: true,
    get: () => {
      if (!loading) return undefined;
      let transport = transports.get(loading);
      if (!transport) transports.set(loading, (transport = transportOf(loading)));
      return transport;
    },
  });
}

/** The thread's heap and the buffers it holds, shared by its environments. */
function threadMemoryMB(): number {
  const heap = getHeapStatistics();
  return Math.round((heap.total_heap_size + heap.external_memory) / 1048576);
}

/**
 * An error outside any handler's promise: which environment's is unknown, so every invocation running in
 * the thread fails with it and the thread ends (the parent replaces its environments).
 */
function fatal(error: LambdaError): void {
  const sent: Promise<void>[] = [];
  for (const environment of environments.values()) {
    const failed = environment.runtime?.fail(error);
    if (failed) sent.push(failed);
  }
  if (sent.length === 0) process.stderr.write(`${error.errorType}: ${error.errorMessage}\n`);
  void Promise.allSettled(sent).finally(() => process.exit(1));
}

/** An environment's `process.stdout` or `stderr`: the thread's, but what is written is the environment's. */
function outputStream(
  stream: "stdout" | "stderr",
  write: (stream: "stdout" | "stderr", text: string) => void,
): NodeJS.WriteStream {
  return Object.create(process[stream], {
    write: { value: capturedWrite((text) => write(stream, text)) },
  }) as NodeJS.WriteStream;
}

/** Output written other than through an environment's own streams, sent over the port in order. */
function captureOutput(): void {
  for (const stream of ["stdout", "stderr"] as const) {
    process[stream].write = capturedWrite((text) => post({ type: "output", stream, text }));
  }
}
