import path from "node:path";
import { generateKey, clientIdPrefix, STUB_ENV, topicPrefix, functionId, clientId } from "../../protocol";
import { STUB_BUNDLE } from "../../core/names";
import { startBroker } from "../local/broker";
import { LocalFunction } from "../local/environments";
import { startGateway } from "../local/gateway";
import type { Invoker } from "../local/invoker";
import { MqttConnection } from "../mqtt-connection";
import type { Reporter } from "../reporter";
import { parseFunctionSpec, type FunctionSpec } from "../runtime/handler-spec";
import type { WorkerPool } from "../runtime/worker-pool";
import { Session } from "../session";
import { Teardown, teardownMessage } from "../teardown";
import { UserError } from "../user-error";
import { parseInspect, type InspectAddress } from "../debug/inspector";
import { DEFAULT_KEEP } from "../record/invocation-record";
import type { InvocationRecorder } from "../record/recorder";
import { startLocalRuntime, type LocalBuilder } from "./local-runtime";

/** `pulumi-live serve --local` options as given on the command line. */
export interface ServeLocalOptions {
  /** `name=path/to/file.export`, one per function. */
  functions: string[];
  cwd?: string;
  /** Gateway port; 0 picks a free one. @default 3000 */
  port?: number;
  /** An external broker (`ws://host:port`) instead of the embedded one. */
  broker?: string;
  /** Local workers at most, across functions. @default 16 */
  concurrency?: number;
  /** The local functions' timeout in seconds, as a deployed function's. @default 30 */
  timeoutSeconds?: number;
  /** Extra environment variables of every function (`KEY=VALUE`). */
  env?: string[];
  /** Lambda-like environments per function at most. @default 10 */
  maxEnvironments?: number;
  /** Rebuild on edits. @default true */
  watch?: boolean;
  /**
   * Open the debugger (`--inspect[=host:port]`): `true` for 127.0.0.1:9229, or `"host:port"`. Also on
   * when the process already has an inspector open. While debugging, invocations held past their
   * deadline are reported, not killed.
   */
  inspect?: string | true;
  /** Invocation records kept per function (`--record N`), or `false` (`--no-record`). @default 100 */
  record?: number | false;
  /** `--python PATH`: the interpreter of Python handlers. @default the project's .venv, else python3 */
  python?: string;
  reporter: Reporter;
}

/** The options resolved once: paths absolute, defaults applied, every problem reported together. */
export interface ResolvedServeLocalOptions {
  specs: FunctionSpec[];
  cwd: string;
  port: number;
  broker?: string;
  concurrency: number;
  timeoutSeconds: number;
  env: Record<string, string>;
  maxEnvironments: number;
  watch: boolean;
  inspect?: InspectAddress;
  record: number | false;
  python?: string;
}

export interface LocalServer {
  gateway: string;
  broker: string;
  /** The run's session key and topic prefix (tests speak the protocol with them). */
  key: Buffer;
  prefix: string;
  session: Session;
  pool: WorkerPool;
  builders: Map<string, LocalBuilder>;
  /** The debugger's WebSocket URL, when debugging. */
  inspector?: string;
  /** Writes the invocation records, unless recording is off. */
  recorder?: InvocationRecorder;
  close(): Promise<void>;
}

function positiveInteger(
  value: number | undefined,
  fallback: number,
  flag: string,
  problems: string[],
): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 0) problems.push(`${flag} must be a whole number ≥ 0 (got ${value}).`);
  return n;
}

/** Resolves the options, reporting every problem in one `UserError`. */
export function resolveServeLocalOptions(
  options: Omit<ServeLocalOptions, "reporter">,
): ResolvedServeLocalOptions {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const problems: string[] = [];
  const specs: FunctionSpec[] = [];
  if (options.functions.length === 0) {
    problems.push(
      "No function to serve. Name each with --function name=path/to/file.export, e.g. --function api=src/api.handler.",
    );
  }
  for (const spec of options.functions) {
    try {
      const parsed = parseFunctionSpec(spec, cwd);
      if (specs.some((s) => functionId(s.name) === functionId(parsed.name))) {
        problems.push(`Two --function flags name "${parsed.name}": give each function its own name.`);
      } else specs.push(parsed);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  const env: Record<string, string> = {};
  for (const pair of options.env ?? []) {
    const equals = pair.indexOf("=");
    if (equals < 1) problems.push(`Invalid --env "${pair}": expected KEY=VALUE.`);
    else env[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  let inspect: InspectAddress | undefined;
  try {
    if (options.inspect !== undefined) inspect = parseInspect(options.inspect);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (options.record !== undefined && options.record !== false) {
    if (!Number.isInteger(options.record) || options.record < 1) {
      problems.push(
        `--record takes how many records to keep per function, 1 or more (got ${options.record}).`,
      );
    }
  }
  if (options.broker !== undefined && !/^ws:\/\/[^/]+/.test(options.broker)) {
    problems.push(
      `Invalid --broker "${options.broker}": expected ws://host:port of an MQTT-over-WebSocket listener.`,
    );
  }
  const resolved: ResolvedServeLocalOptions = {
    specs,
    cwd,
    port: positiveInteger(options.port, 3000, "--port", problems),
    broker: options.broker,
    concurrency: Math.max(1, positiveInteger(options.concurrency, 16, "--concurrency", problems)),
    timeoutSeconds: Math.max(1, positiveInteger(options.timeoutSeconds, 30, "--timeout", problems)),
    env,
    maxEnvironments: Math.max(
      1,
      positiveInteger(options.maxEnvironments, 10, "--max-environments", problems),
    ),
    watch: options.watch ?? true,
    inspect,
    record: options.record ?? DEFAULT_KEEP,
    python: options.python,
  };
  if (problems.length > 0) throw new UserError(problems);
  return resolved;
}

/**
 * Starts the whole live loop on this machine: broker, builds, worker pool, session, local Lambda-like
 * environments running the stub bundle, and the gateway.
 */
export async function startLocalServer(input: ServeLocalOptions): Promise<LocalServer> {
  const options = resolveServeLocalOptions(input);
  const { reporter } = input;
  const project = path.basename(options.cwd);
  const stack = "local";
  const key = generateKey();
  const prefix = topicPrefix(project, stack);
  const clientPrefix = clientIdPrefix(project, stack);
  const cleanup = new Teardown();
  // Every part is closed, and a part that fails to close is reported, not swallowed.
  const closeAll = () =>
    cleanup.run((what, error) => reporter.error({ message: teardownMessage(what, error) }));
  try {
    const { builders, served, pool, recorder, inspector } = await startLocalRuntime({
      functions: options.specs.map((spec) => ({ ...spec, functionId: functionId(spec.name) })),
      root: options.cwd,
      watch: options.watch,
      concurrency: options.concurrency,
      inspect: options.inspect,
      record: options.record,
      python: options.python,
      reporter,
      cleanup,
    });
    const broker = options.broker
      ? { url: options.broker, close: () => Promise.resolve() }
      : await startBroker({});
    cleanup.add("the broker", () => broker.close());

    const session = new Session({
      key,
      prefix,
      functions: served,
      runner: pool,
      events: reporter,
      recorder,
      connect: (will, suffix) =>
        MqttConnection.connect({
          target: { kind: "broker", url: broker.url },
          clientId: clientId(clientPrefix, "cli", suffix),
          will,
          onStatus: (s) => reporter.status({ kind: "connection", target: "broker", ...s }),
        }),
    });
    cleanup.add("the session", () => session.close());
    await session.start();

    const invokers = new Map<string, Invoker>();
    for (const spec of options.specs) {
      const local = new LocalFunction({
        name: spec.name,
        handlerFile: STUB_BUNDLE,
        handlerExport: "handler",
        timeoutSeconds: options.timeoutSeconds,
        maxEnvironments: options.maxEnvironments,
        environment: {
          ...options.env,
          [STUB_ENV.prefix]: prefix,
          [STUB_ENV.functionId]: functionId(spec.name),
          [STUB_ENV.key]: key.toString("base64"),
          [STUB_ENV.clientPrefix]: clientPrefix,
          [STUB_ENV.stack]: `${project}/${stack}`,
          [STUB_ENV.brokerUrl]: broker.url,
        },
      });
      cleanup.add(`the Lambda-like environments of ${spec.name}`, () => local.close());
      invokers.set(spec.name, local);
    }
    const gateway = await startGateway({
      port: options.port,
      functions: invokers,
      // Requests the gateway answers itself (unknown function, oversized, malformed) reach no handler:
      // say so, or the caller's 4xx would be the only trace.
      onRequest: (r) => {
        if (r.requestId || r.status < 400) return;
        const why = r.error ? `: ${r.error}` : "";
        reporter.status({ message: `gateway answered ${r.method} ${r.path} with ${r.status}${why}` });
      },
    });
    cleanup.add("the gateway", () => gateway.close());

    reporter.ready({
      ...(inspector ? { inspector } : {}),
      mode: "local",
      gateway: gateway.url,
      broker: broker.url,
      functions: options.specs.map((s) => ({
        name: s.name,
        handler: `${path.relative(options.cwd, s.file).replace(/\.([cm]?[jt]s|py)$/, "")}.${s.exportName}`,
        url: `${gateway.url}/${s.name}/`,
      })),
    });
    let closing: Promise<void> | undefined;
    return {
      gateway: gateway.url,
      broker: broker.url,
      key,
      prefix,
      session,
      pool,
      builders,
      inspector,
      recorder,
      close: () => (closing ??= closeAll()),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
