import { clientId, stackTopics as stackTopicsOf } from "../../protocol";
import { awsCredentials, type CredentialsSource } from "../aws/credentials";
import type { EndpointOverride } from "../aws/iot-endpoint";
import { explainRefusal, stackIotScope } from "../aws/iot-permissions";
import { discoverStack, type DiscoveredStack } from "../discovery/discover";
import { MqttConnection, type MqttConnectionOptions } from "../mqtt-connection";
import { SpreadConnection } from "../spread-connection";
import type { Reporter } from "../reporter";
import { parseInspect, type InspectAddress } from "../debug/inspector";
import { DEFAULT_KEEP } from "../record/invocation-record";
import { localVariables } from "../runtime/local-variables";
import { startLocalRuntime, type LocalBuilder } from "./local-runtime";
import type { WorkerPool } from "../runtime/worker-pool";
import { Session, type SessionEvents } from "../session";
import { Teardown, teardownMessage } from "../teardown";
import { UserError } from "../user-error";

/** Connections a session spreads over by default: 800 messages a second each way through IoT Core, so that
 * one whose share of requests comes in a burst stays under its 100. */
export const DEFAULT_CONNECTIONS = 8;
const MAX_CONNECTIONS = 32;

/** `pulumi-live serve` (a deployed stack) options as given on the command line. */
export interface ServeStackOptions {
  /** `--stack NAME`; the selected stack by default. */
  stack?: string;
  /** `--cwd DIR`: the project folder; the current directory by default. */
  cwd?: string;
  /** `--only a,b`: serve these live functions only. */
  only?: string[];
  /** `--profile NAME`: the AWS profile; the default chain's choice by default. */
  profile?: string;
  /** Local workers at most, across functions. @default 16 */
  concurrency?: number;
  /** Rebuild on edits. @default true */
  watch?: boolean;
  /** The developer's local variables for every function (`--env KEY=VALUE`), over the env file's. */
  variables?: string[];
  /** `--env-file FILE`; `.pulumi-live/local.env` in the project folder when absent (if it exists). */
  envFile?: string;
  reporter: Reporter;
  /** Environment of `pulumi` and of the credential chain; `process.env` by default. */
  env?: NodeJS.ProcessEnv;
  /** Replaces the default credential chain (tests). */
  credentials?: CredentialsSource;
  /** `--endpoint HOST[:PORT]` and `--ca-file PATH`: connect there instead of the stack's IoT endpoint. */
  endpoint?: EndpointOverride;
  /**
   * MQTT connections the session spreads over (`--connections N`): each carries at most 100 messages and
   * 512 KiB a second each way through AWS IoT Core. @default 8
   */
  connections?: number;
  /** Only for tests of the AWS path against plain brokers: see `MqttConnectionOptions.adjustConfig`. */
  adjustConfig?: MqttConnectionOptions["adjustConfig"];
  /** MQTT keepalive (s). @default 30 */
  keepAliveSeconds?: number;
  /**
   * Open the debugger (`--inspect[=host:port]`): `true` for 127.0.0.1:9229, or `"host:port"`. Also on
   * when the process already has an inspector open.
   */
  inspect?: string | true;
  /** Invocation records kept per function (`--record N`), or `false` (`--no-record`). @default 100 */
  record?: number | false;
  /** `--python PATH`: the interpreter of Python handlers. @default the project's .venv, else python3 */
  python?: string;
}

export interface StackServer {
  stack: DiscoveredStack;
  session: Session;
  pool: WorkerPool;
  builders: Map<string, LocalBuilder>;
  /** The debugger's WebSocket URL, when debugging. */
  inspector?: string;
  /** Resolves when a newer session of the stack took over; this one has then closed itself. */
  takenOver: Promise<{ sessionId: string; host?: string }>;
  close(): Promise<void>;
}

/** The options of `serve` (a deployed stack) checked: every problem in one `UserError`. */
export function resolveServeStackOptions(options: Omit<ServeStackOptions, "reporter">): {
  concurrency: number;
  inspect?: InspectAddress;
  record: number | false;
  connections: number;
} {
  const problems: string[] = [];
  const connections = options.connections ?? DEFAULT_CONNECTIONS;
  if (!Number.isInteger(connections) || connections < 1 || connections > MAX_CONNECTIONS) {
    problems.push(`--connections must be a whole number from 1 to ${MAX_CONNECTIONS} (got ${connections}).`);
  }
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    problems.push(`--concurrency must be a whole number ≥ 1 (got ${options.concurrency}).`);
  }
  let inspect: InspectAddress | undefined;
  try {
    if (options.inspect !== undefined) inspect = parseInspect(options.inspect);
  } catch (error) {
    problems.push((error as Error).message);
  }
  const record = options.record ?? DEFAULT_KEEP;
  if (record !== false && (!Number.isInteger(record) || record < 1)) {
    problems.push(`--record takes how many records to keep per function, 1 or more (got ${record}).`);
  }
  if (problems.length > 0) throw new UserError(problems);
  return { concurrency, inspect, record, connections };
}

/**
 * Serves a deployed stack's live functions: discovery through the pulumi CLI, the developer's AWS
 * credentials, builds and workers, and a session on the stack's AWS IoT endpoint. A newer session of the
 * same stack takes over: this one then says so, leaves the presence to it and closes.
 */
export async function startStackServer(options: ServeStackOptions): Promise<StackServer> {
  const { reporter } = options;
  const env = options.env ?? process.env;
  const { concurrency, inspect, record, connections } = resolveServeStackOptions(options);
  const credentials = options.credentials ?? awsCredentials({ profile: options.profile, env });
  // Both asked at once, so a user with no stack selected and an expired SSO session hears of both. The
  // credentials are fetched now to fail with the command that fixes it, not as a refused handshake.
  const [discovered, signedIn] = await Promise.allSettled([
    discoverStack({ stack: options.stack, cwd: options.cwd, only: options.only, env }),
    credentials.get(),
  ]);
  const failures = [discovered, signedIn].flatMap((r): unknown[] =>
    r.status === "rejected" ? [r.reason] : [],
  );
  // A failure that is not the user's is a bug: it goes out as it is, with its stack.
  const bugs = failures.filter((e) => !(e instanceof UserError));
  if (bugs.length > 0) throw bugs[0];
  const problems = UserError.combine(failures);
  if (problems) throw problems;
  const stack = (discovered as PromiseFulfilledResult<DiscoveredStack>).value;
  const local = localVariables(stack.root, { env: options.variables, envFile: options.envFile });
  const scope = stackIotScope({ ...stack, functions: stack.all });
  const endpoint = options.endpoint;

  const cleanup = new Teardown();
  // Every part is closed, and a part that fails to close is reported, not swallowed.
  const closeAll = () =>
    cleanup.run((what, error) => reporter.error({ message: teardownMessage(what, error) }));
  try {
    const { builders, served, pool, recorder, inspector } = await startLocalRuntime({
      functions: stack.functions,
      root: stack.root,
      watch: options.watch ?? true,
      concurrency,
      inspect,
      record,
      localVariables: local,
      python: options.python,
      reporter,
      cleanup,
    });

    const { session: recorded } = stack;
    let connection: SpreadConnection | undefined;
    let onTakeover: (e: { sessionId: string; host?: string }) => void = () => undefined;
    const takenOver = new Promise<{ sessionId: string; host?: string }>((resolve) => (onTakeover = resolve));
    const events: SessionEvents = {
      invoke: (e) => reporter.invoke(e),
      result: (e) => reporter.result(e),
      drop: (e) => reporter.drop(e),
      status: (e) => reporter.status(e),
      takeover: (e) => {
        // The newer session owns the presence now: this one must not clear it on the way out.
        connection?.releaseRetained(session.topics.presence);
        reporter.takeover(e);
        onTakeover(e);
      },
    };
    const session: Session = new Session({
      key: recorded.key,
      prefix: recorded.prefix,
      functions: served,
      runner: pool,
      events,
      recorder,
      connect: async (will, suffix) => {
        connection = await SpreadConnection.connect({
          count: connections,
          shared: [stackTopicsOf(recorded.prefix).requests],
          group: suffix,
          open: (index) =>
            MqttConnection.connect({
              target: {
                kind: "iot",
                endpoint: endpoint?.host || recorded.endpoint,
                port: endpoint?.port,
                caFile: endpoint?.caFile,
                region: recorded.region,
                credentials,
              },
              clientId: clientId(recorded.sessionClientPrefix, index === 0 ? suffix : `${suffix}-${index}`),
              will: index === 0 ? will : undefined,
              keepAliveSeconds: options.keepAliveSeconds ?? 30,
              adjustConfig: options.adjustConfig,
              explainRefusal: (refused) => explainRefusal(scope, options.stack, refused),
              onStatus: (s) =>
                reporter.status({
                  kind: "connection",
                  target: "AWS IoT",
                  ...(connections > 1 ? { connection: `${index + 1}/${connections}` } : {}),
                  ...s,
                }),
            }),
        });
        return connection;
      },
    });
    cleanup.add("the session", () => session.close());
    await session.start().catch((error: Error) => {
      throw new UserError(error.message);
    });

    reporter.ready({
      ...(inspector ? { inspector } : {}),
      mode: "aws",
      broker: endpoint?.host
        ? `${endpoint.host}${endpoint.port ? `:${endpoint.port}` : ""}`
        : recorded.endpoint,
      functions: stack.functions.map((f) => ({ name: f.name, handler: f.handler })),
    });
    let closing: Promise<void> | undefined;
    const close = () => (closing ??= closeAll());
    void takenOver.then(close);
    return { stack, session, pool, builders, inspector, takenOver, close };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
