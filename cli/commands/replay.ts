/** `pulumi-live replay <request-id | file>`: a recorded invocation, run again against the current source. */
import path from "node:path";
import { findRecord } from "../record/find-record";
import { readRecord } from "../record/invocation-record";
import { replayJson, sameOutcome, sideBySide } from "../record/replay-report";
import { REDACTED } from "../record/redact";
import type { AwsCredentials } from "../../core/credentials";
import { replayEnvironment, runReplay } from "../record/replay-run";
import { defineCommand } from "../command-line/command";
import type { CommandIo } from "./command-io";

/** How long the credential chain may look (instance metadata can be slow to say there is none). */
const CREDENTIALS_TIMEOUT_MS = 5000;

/** The user's AWS credentials now, from the SDK's default chain; undefined when there are none. */
export async function credentialsFromChain(): Promise<AwsCredentials | undefined> {
  const { fromNodeProviderChain } = await import("@aws-sdk/credential-providers");
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), CREDENTIALS_TIMEOUT_MS).unref();
  });
  try {
    return await Promise.race([fromNodeProviderChain()().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ReplayDeps {
  /** Where credentials come from. @default {@link credentialsFromChain} */
  credentials?: () => Promise<AwsCredentials | undefined>;
}

export const replayCommand = defineCommand<{ record: string; json: boolean }, ReplayDeps>({
  name: "replay",
  summary: "run a recorded invocation again, locally, against the current source",
  usage: ["<request-id | file> [--json]"],
  description:
    "Runs a recorded invocation (.pulumi-live/log/<function>/) again against the current source, on this " +
    "machine: no broker, no AWS. The handler gets the recorded event, context and environment, with AWS " +
    "credentials as they are now from your AWS credential chain (recorded ones are redacted). Prints the " +
    "new result next to the recorded one. Exits 0 when the replay succeeded, 1 when it failed.",
  arguments: [
    {
      name: "<request-id>",
      description: "the request id, or its first characters as pulumi-live serve shows them",
    },
    { name: "<file>", description: "a record file" },
  ],
  positionals: { min: 1, max: 1 },
  options: [{ name: "json", description: "one JSON document instead of lines for people" }],
  read: (args) => ({ record: args.positionals[0] ?? "", json: args.flag("json") }),
  run: (options, io, deps) => replay(options, io, deps),
});

/** Runs `pulumi-live replay`; resolves with the exit code. Throws UserError for what the user can fix. */
export function runReplayCommand(args: string[], io: CommandIo, deps: ReplayDeps = {}): Promise<number> {
  return replayCommand.execute(args, io, deps);
}

async function replay(
  values: { record: string; json: boolean },
  io: CommandIo,
  deps: ReplayDeps,
): Promise<number> {
  const file = await findRecord(io.cwd, values.record);
  const record = await readRecord(file);
  const credentials = await (deps.credentials ?? credentialsFromChain)();
  const { environment, missing } = replayEnvironment(record, credentials, io.env);
  const shown = path.relative(io.cwd, file);
  const logs: string[] = [];
  if (!values.json) {
    const when = new Date(record.timings.received).toISOString().replace("T", " ").slice(0, 19);
    io.stdout(
      `replay of ${record.function} ${record.requestId} recorded ${when} UTC\n` +
        `  handler      ${record.handler.file} export ${record.handler.exportName}\n` +
        `  record       ${shown}\n` +
        (credentials
          ? `  credentials  from your AWS credential chain (${credentials.accessKeyId.slice(0, 4)}…${credentials.accessKeyId.slice(-4)})\n`
          : "  credentials  none found (environment, profile, SSO, instance role): the handler runs without; AWS calls will fail. Sign in (aws sso login, AWS_PROFILE) to replay with them.\n") +
        (missing.length > 0
          ? `  unset        ${missing.join(", ")}: redacted in the record; export them in this shell to give the handler values\n`
          : "") +
        (record.redactedEvent?.length
          ? `  redacted     ${record.redactedEvent.join(", ")} in the event: replayed as "${REDACTED}"\n`
          : ""),
    );
  }
  const replayed = await runReplay(record, {
    root: io.cwd,
    local: io.env,
    environment,
    onLog: (line) => logs.push(line),
  });
  if (values.json) {
    const document = replayJson(record, shown, replayed, credentials ? "chain" : "none", missing);
    io.stdout(JSON.stringify(document) + "\n");
    return replayed.ok ? 0 : 1;
  }
  const recorded = { ...record.outcome, durationMs: record.timings.run };
  const lines = ["", ...sideBySide(recorded, replayed), ""];
  lines.push(
    sameOutcome(record.outcome, replayed)
      ? "same result as recorded"
      : "the result differs from the recorded one",
  );
  if (!replayed.ok && replayed.error.trace.length > 1) {
    lines.push(...replayed.error.trace.slice(1).map((line) => `    ${line.trim()}`));
  }
  if (logs.length > 0) lines.push("logs now:", ...logs.map((line) => `  │ ${line}`));
  io.stdout(lines.join("\n") + "\n");
  return replayed.ok ? 0 : 1;
}
