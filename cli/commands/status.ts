import { randomBytes } from "node:crypto";
import { Reassembler, clientId, stackTopics, type PresenceMessage } from "../../protocol";
import { awsCredentials, type CredentialsSource } from "../aws/credentials";
import { parseEndpointOptions, type EndpointOverride } from "../aws/iot-endpoint";
import { explainRefusal, stackIotScope } from "../aws/iot-permissions";
import { handlerExists, readStack, type StackRecord } from "../discovery/discover";
import { MqttConnection, type MqttConnectionOptions } from "../mqtt-connection";
import { defineCommand } from "../command-line/command";
import { CWD_OPTION, STACK_OPTION, type OptionDefinition } from "../command-line/definition";
import type { ParsedArgs } from "../command-line/parse";
import { UserError } from "../user-error";

export interface StatusOptions {
  stack?: string;
  cwd?: string;
  profile?: string;
  env?: NodeJS.ProcessEnv;
  credentials?: CredentialsSource;
  /** `--endpoint HOST[:PORT]` and `--ca-file PATH`. */
  endpoint?: EndpointOverride;
  /** Only for tests against plain brokers: see `MqttConnectionOptions.adjustConfig`. */
  adjustConfig?: MqttConnectionOptions["adjustConfig"];
  /** How long to wait for the retained presence after subscribing (ms). @default 2000 */
  presenceWaitMs?: number;
}

/** What `pulumi-live status` reports (also its `--json` form). */
export interface StackStatus {
  project: string;
  stack: string;
  endpoint?: string;
  region?: string;
  functions: {
    name: string;
    functionId: string;
    handler: string;
    live: boolean;
    functionName: string;
    sourceFound: boolean;
  }[];
  session:
    | {
        state: "online";
        sessionId: string;
        host?: string;
        pid?: number;
        startedAt: number;
        functions: string[];
      }
    | { state: "offline" }
    | { state: "not-live" }
    | { state: "unknown"; reason: string };
}

/** Reads the retained presence of the stack: one subscription, then disconnect. */
async function readPresence(
  options: StatusOptions,
  record: StackRecord,
): Promise<PresenceMessage | undefined> {
  const session = record.session!;
  const credentials = options.credentials ?? awsCredentials({ profile: options.profile, env: options.env });
  await credentials.get();
  const connection = await MqttConnection.connect({
    target: {
      kind: "iot",
      endpoint: options.endpoint?.host || session.endpoint,
      port: options.endpoint?.port,
      caFile: options.endpoint?.caFile,
      region: session.region,
      credentials,
    },
    clientId: clientId(session.sessionClientPrefix, `status-${randomBytes(4).toString("hex")}`),
    adjustConfig: options.adjustConfig,
    explainRefusal: (refused) => explainRefusal(stackIotScope(record), options.stack, refused),
  });
  try {
    const topic = stackTopics(session.prefix).presence;
    let found: (p: PresenceMessage | undefined) => void = () => undefined;
    const presence = new Promise<PresenceMessage | undefined>((resolve) => (found = resolve));
    const reassembler = new Reassembler(session.key);
    await connection.subscribe(topic, (t, payload) => {
      if (payload.length === 0) return found(undefined);
      const message = reassembler.push(t, payload);
      if (message?.type === "presence") found(message);
    });
    // A retained message follows the SUBACK at once; no message at all means none is retained.
    const timer = setTimeout(() => found(undefined), options.presenceWaitMs ?? 2000);
    return await presence.finally(() => clearTimeout(timer));
  } finally {
    await connection.close();
  }
}

/** The stack's live functions, whether a session serves them and whose, the endpoint and region. */
export async function stackStatus(options: StatusOptions = {}): Promise<StackStatus> {
  const record = await readStack({ stack: options.stack, cwd: options.cwd, env: options.env });
  const status: StackStatus = {
    project: record.project,
    stack: record.stack,
    endpoint: record.session?.endpoint,
    region: record.session?.region,
    functions: record.functions.map((f) => ({
      name: f.name,
      functionId: f.functionId,
      handler: f.handler,
      live: f.live,
      functionName: f.functionName,
      sourceFound: handlerExists(f, record.root),
    })),
    session: { state: "not-live" },
  };
  if (!record.session) return status;
  try {
    const presence = await readPresence(options, record);
    status.session =
      presence?.online === true
        ? {
            state: "online",
            sessionId: presence.sessionId,
            host: presence.host,
            pid: presence.pid,
            startedAt: presence.startedAt,
            functions: presence.functions,
          }
        : { state: "offline" };
  } catch (error) {
    status.session = { state: "unknown", reason: (error as Error).message };
  }
  return status;
}

/** The status as lines for people. */
export function formatStatus(status: StackStatus, now = Date.now()): string {
  const lines = [`stack     ${status.project}/${status.stack}`];
  if (status.endpoint) lines.push(`endpoint  ${status.endpoint} (${status.region})`);
  const s = status.session;
  if (s.state === "online") {
    const since = Math.max(0, Math.round((now - s.startedAt) / 60_000));
    const where = `${s.host ?? "unknown host"}${s.pid ? `, pid ${s.pid}` : ""}`;
    lines.push(`session   online: ${s.sessionId} on ${where}, for ${since} min`);
  } else if (s.state === "offline") {
    lines.push("session   none online: live functions fail fast or fall back. Start one: pulumi-live serve");
  } else if (s.state === "not-live") {
    lines.push("session   none: the stack is not in live mode (pulumi config set live true && pulumi up)");
  } else lines.push(`session   unknown: ${s.reason}`);
  lines.push("functions");
  const width = Math.max(0, ...status.functions.map((f) => f.name.length));
  for (const f of status.functions) {
    const serving = s.state === "online" && s.functions.includes(f.functionId) ? ", served" : "";
    const state = f.live ? `live${serving}` : "not live";
    const missing = f.sourceFound ? "" : "  (source missing here)";
    lines.push(`  ${f.name.padEnd(width)}  ${f.handler}  ${state}${missing}`);
  }
  if (status.functions.length === 0) lines.push("  (none: the stack has no LiveFunction)");
  return lines.join("\n") + "\n";
}

/** `--endpoint` and `--ca-file`, as `serve` and `status` take them. */
export const ENDPOINT_OPTIONS: OptionDefinition[] = [
  {
    name: "endpoint",
    takes: "value",
    placeholder: "HOST[:PORT]",
    description:
      "connect there instead of the stack's IoT endpoint: an IoT custom domain or a VPC interface endpoint " +
      "(TLS and SigV4 as for AWS IoT)",
  },
  {
    name: "ca-file",
    takes: "value",
    placeholder: "PATH",
    description: "trust the certificate authorities in this PEM file (a private CA)",
  },
];

/** Reads `--endpoint` and `--ca-file`, adding what is wrong with them to `problems`. */
export function readEndpoint(args: ParsedArgs, problems: string[]): EndpointOverride | undefined {
  try {
    return parseEndpointOptions(args.value("endpoint"), args.value("ca-file"));
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    problems.push(...error.problems);
    return undefined;
  }
}

export const statusCommand = defineCommand<StatusOptions & { json: boolean }>({
  name: "status",
  summary: "the stack's live functions, whether a session serves them and whose",
  usage: ["[--stack NAME] [--cwd DIR] [--profile NAME] [--json]"],
  description:
    "Reads the stack through the pulumi CLI and the stack's retained presence on AWS IoT: the live functions, " +
    "whether their source is here, and the session serving them (its host, pid and since when).",
  options: [
    STACK_OPTION,
    CWD_OPTION,
    {
      name: "profile",
      takes: "value",
      placeholder: "NAME",
      description: "the AWS profile",
      default: "AWS_PROFILE, then the default chain",
    },
    ...ENDPOINT_OPTIONS,
    { name: "json", description: "one JSON object instead of lines for people" },
  ],
  read: (args, problems) => ({
    stack: args.value("stack"),
    cwd: args.value("cwd"),
    profile: args.value("profile"),
    endpoint: readEndpoint(args, problems),
    json: args.flag("json"),
  }),
  async run({ json, ...options }, io) {
    const result = await stackStatus({ ...options, env: io.env });
    io.stdout(json ? JSON.stringify(result) + "\n" : formatStatus(result));
    return 0;
  },
});
