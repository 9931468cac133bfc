import { randomBytes } from "node:crypto";
import path from "node:path";
import {
  generateKey,
  clientIdPrefix,
  STUB_ENV,
  topicPrefix,
  functionId,
  clientId,
  type StackNamespace,
} from "../../protocol";
import { STUB_BUNDLE } from "../../core/names";
import { BROKER_USER, startBroker, type LocalBroker } from "../local/broker";
import { InProcessConnection } from "../local/in-process-connection";
import { LocalFunction } from "../local/environments";
import { startGateway } from "../local/gateway";
import type { Invoker } from "../local/invoker";
import { MqttConnection, type ConnectionStatus } from "../mqtt-connection";
import type { WorkerPool } from "../runtime/worker-pool";
import { Session, type SessionOptions } from "../session";
import { Teardown, teardownMessage } from "../teardown";
import { UserError } from "../user-error";
import type { HttpSource } from "../local/events/http-sources";
import { resolveServeLocalOptions, type ServeLocalOptions } from "./serve-local-options";
import type { InvocationRecorder } from "../record/recorder";
import { startLocalRuntime, type LocalBuilder } from "./local-runtime";
import { planFromProgram, type PlannedFunction } from "./local-program";
import { readyFunctions } from "./local-ready";
import { startLocalTriggers, type LocalTriggers } from "../local/local-triggers";
import { LOCAL_ACCOUNT } from "../program/run-program";

export {
  resolveServeLocalOptions,
  type ResolvedServeLocalOptions,
  type ServeLocalOptions,
} from "./serve-local-options";

/** Lambda's timeout when a function sets none (seconds). */
const LAMBDA_DEFAULT_TIMEOUT = 3;

export interface LocalServer {
  gateway: string;
  broker: string;
  /** The run's session key and topic prefix (tests speak the protocol with them). */
  key: Buffer;
  prefix: string;
  /** The embedded broker's password for this run (user name `pulumi-live`); none with `--broker`. */
  brokerPassword?: string;
  session: Session;
  pool: WorkerPool;
  builders: Map<string, LocalBuilder>;
  /** The debugger's WebSocket URL, when debugging. */
  inspector?: string;
  /** Writes the invocation records, unless recording is off. */
  recorder?: InvocationRecorder;
  /** The program's queues and schedules, running locally. */
  triggers: LocalTriggers;
  close(): Promise<void>;
}

/**
 * How local mode's session connects: to the embedded broker in this process over an in-memory stream
 * (`InProcessConnection`), to a `--broker` URL over the network (aws-crt, as for AWS IoT).
 */
export function sessionConnector(options: {
  broker: LocalBroker | { url: string };
  /** The embedded broker's per-run password. */
  secret?: string;
  clientPrefix: string;
  onStatus?: (status: ConnectionStatus) => void;
}): SessionOptions["connect"] {
  const { broker, secret, clientPrefix, onStatus } = options;
  const credentials = secret ? { username: BROKER_USER, password: secret } : {};
  return (will, suffix) =>
    "handle" in broker
      ? InProcessConnection.connect({
          broker,
          clientId: clientId(clientPrefix, suffix),
          will,
          onStatus,
          ...credentials,
        })
      : MqttConnection.connect({
          target: { kind: "broker", url: broker.url, ...credentials },
          clientId: clientId(clientPrefix, suffix),
          will,
          onStatus,
        });
}

/**
 * Starts the whole live loop on this machine: the gateway, the functions (named by --function, or read
 * from the Pulumi program with their triggers), broker, builds, worker pool, session, local Lambda-like
 * environments running the stub bundle, and the triggers.
 */
export async function startLocalServer(input: ServeLocalOptions): Promise<LocalServer> {
  const options = resolveServeLocalOptions(input);
  const { reporter } = input;
  const key = generateKey();
  const cleanup = new Teardown();
  // Every part is closed, and a part that fails to close is reported, not swallowed.
  const closeAll = () =>
    cleanup.run((what, error) => reporter.error({ message: teardownMessage(what, error) }));
  try {
    // The gateway first: the program's mocked URLs (function URLs, queues) point at its address.
    const gateway = await startGateway({
      port: options.port,
      // Requests the gateway answers itself (unknown function, oversized, malformed) reach no handler:
      // say so, or the caller's 4xx would be the only trace.
      onRequest: (r) => {
        if (r.requestId || r.status < 400) return;
        const why = r.error ? `: ${r.error}` : "";
        reporter.status({ message: `gateway answered ${r.method} ${r.path} with ${r.status}${why}` });
      },
    });
    cleanup.add("the gateway", () => gateway.close());
    const plan =
      options.specs.length > 0
        ? undefined
        : await planFromProgram({
            cwd: options.cwd,
            stack: options.stack,
            gatewayUrl: gateway.url,
            env: options.env,
            timeoutMs: options.programTimeoutMs,
          });
    const functions: PlannedFunction[] =
      plan?.functions ??
      options.specs.map((s) => ({
        ...s,
        environment: {},
        ...(options.streaming.has(s.name) ? { streaming: true } : {}),
      }));
    const unknown = [...options.httpSources.keys()].filter((name) => !functions.some((f) => f.name === name));
    if (unknown.length > 0) {
      throw new UserError(
        `--http-source names ${unknown.join(", ")}, which ${unknown.length === 1 ? "is" : "are"} not served here. ` +
          `Served: ${functions.map((f) => f.name).join(", ")}.`,
      );
    }
    const project = plan?.project.name ?? path.basename(options.cwd);
    const stack = plan?.project.stack ?? "local";
    const region = plan?.region ?? "us-east-1";
    // A namespace of its own per run, as a deployed stack has one per `Session`.
    const namespace: StackNamespace = {
      organization: "local",
      project,
      stack,
      id: randomBytes(6).toString("hex"),
    };
    const prefix = topicPrefix(namespace);
    // The embedded broker lets in only this run's session and stubs.
    const brokerSecret = options.broker ? undefined : randomBytes(24).toString("base64url");

    const { builders, served, pool, recorder, inspector } = await startLocalRuntime({
      functions: functions.map((fn) => ({ ...fn, functionId: functionId(fn.name) })),
      root: plan?.project.root ?? options.cwd,
      watch: options.watch,
      concurrency: options.concurrency,
      inspect: options.inspect,
      record: options.record,
      python: options.python,
      localVariables: options.localVariables,
      reporter,
      cleanup,
    });
    const broker: LocalBroker | { url: string; close(): Promise<void> } = options.broker
      ? { url: options.broker, close: async () => undefined }
      : await startBroker({ password: brokerSecret, prefix });
    cleanup.add("the broker", () => broker.close());

    const session = new Session({
      key,
      prefix,
      functions: served,
      runner: pool,
      events: reporter,
      recorder,
      connect: sessionConnector({
        broker,
        secret: brokerSecret,
        clientPrefix: clientIdPrefix(namespace, "session"),
        onStatus: (s) => reporter.status({ kind: "connection", target: "broker", ...s }),
      }),
    });
    cleanup.add("the session", () => session.close());
    await session.start();

    const invokers = new Map<string, Invoker>();
    for (const fn of functions) {
      const local = new LocalFunction({
        name: fn.name,
        handlerFile: STUB_BUNDLE,
        handlerExport: "handler",
        timeoutSeconds: options.timeoutSeconds ?? fn.timeoutSeconds ?? (plan ? LAMBDA_DEFAULT_TIMEOUT : 30),
        ...(fn.memoryMB !== undefined ? { memoryMB: fn.memoryMB } : {}),
        region,
        maxEnvironments: options.maxEnvironments,
        streaming: fn.streaming ?? false,
        // The stubs in thread environments reach the embedded broker over their thread's port.
        ...("handle" in broker ? { broker } : {}),
        // The stubs of a function share threads, each environment its own instance of the stub bundle.
        shareThreads: true,
        environment: {
          ...fn.environment,
          ...options.env,
          [STUB_ENV.prefix]: prefix,
          [STUB_ENV.functionId]: functionId(fn.name),
          [STUB_ENV.key]: key.toString("base64"),
          [STUB_ENV.clientPrefix]: clientIdPrefix(namespace, "stub"),
          [STUB_ENV.stack]: `${project}/${stack}`,
          [STUB_ENV.brokerUrl]: broker.url,
          ...(brokerSecret ? { [STUB_ENV.brokerSecret]: brokerSecret } : {}),
          ...(fn.streaming ? { [STUB_ENV.streaming]: "true" } : {}),
        },
      });
      cleanup.add(`the Lambda-like environments of ${fn.name}`, () => local.close());
      invokers.set(fn.name, local);
    }
    const triggers = startLocalTriggers({
      app: plan?.app ?? { queues: [], mappings: [], schedules: [] },
      invokers,
      region,
      account: plan?.account ?? LOCAL_ACCOUNT,
      onBatch: (b) => {
        if (b.error || b.retried > 0)
          reporter.status({
            message: `SQS ${b.queue} → ${b.functionName}: ${b.deleted} of ${b.size} done, ${b.retried} retried after the visibility timeout${b.error ? ` (${b.error})` : ""}`,
          });
      },
      onFire: (rule, results, scheduled) =>
        reporter.status({
          message: `schedule ${rule} fired${scheduled ? "" : " on request"}: ${results.map((r) => `${r.functionName} ${r.ok ? "ok" : `failed: ${r.error}`}`).join(", ")}`,
        }),
    });
    cleanup.add("the triggers", () => triggers.close());
    const httpSources = new Map<string, HttpSource>();
    for (const fn of functions) {
      const source = options.httpSources.get(fn.name) ?? fn.httpSource;
      if (source) httpSources.set(fn.name, source);
    }
    gateway.setRoutes({
      functions: invokers,
      httpSources,
      defaultHttpSource: options.defaultHttpSource,
      apis: new Map((plan?.app.apis ?? []).map((api) => [api.name, api])),
      services: triggers.services,
      control: triggers.control,
    });

    reporter.ready({
      ...(inspector ? { inspector } : {}),
      mode: "local",
      gateway: gateway.url,
      broker: broker.url,
      ...(plan ? { program: { main: path.relative(options.cwd, plan.project.main), stack } } : {}),
      functions: readyFunctions(functions, {
        cwd: options.cwd,
        gatewayUrl: gateway.url,
        httpSources,
        defaultHttpSource: options.defaultHttpSource,
        app: plan?.app,
        triggers,
      }),
    });
    // After ready, whose line comes first in --json output.
    for (const notice of plan?.notices ?? []) reporter.status({ message: notice });
    let closing: Promise<void> | undefined;
    return {
      gateway: gateway.url,
      broker: broker.url,
      key,
      prefix,
      brokerPassword: brokerSecret,
      session,
      pool,
      builders,
      inspector,
      recorder,
      triggers,
      close: () => (closing ??= closeAll()),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
