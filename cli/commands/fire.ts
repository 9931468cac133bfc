/** `pulumi-live fire <rule>`: fires a local EventBridge schedule of `serve --local` now. */
import { firePath } from "../local/local-triggers";
import type { FireResult } from "../local/triggers/schedules";
import { defineCommand } from "../command-line/command";
import { UserError } from "../user-error";
import type { CommandIo } from "./command-io";
import { DEFAULT_LOCAL_ENDPOINT } from "./invoke";

export const fireCommand = defineCommand<{ rule: string; endpoint?: string; json: boolean }>({
  name: "fire",
  summary: "fire a local EventBridge schedule of serve --local now",
  usage: ["<rule> [--endpoint URL] [--json]"],
  description:
    "Fires an EventBridge schedule of the program served by pulumi-live serve --local now: each of the " +
    "rule's target functions gets the scheduled event (or the target's input) and the answers are printed. " +
    "Exits 1 when a target failed.",
  arguments: [
    { name: "<rule>", description: "the EventBridge rule's resource name, as serve --local lists it" },
  ],
  positionals: { min: 1, max: 1 },
  options: [
    {
      name: "endpoint",
      takes: "value",
      placeholder: "URL",
      description: "the local gateway",
      default: DEFAULT_LOCAL_ENDPOINT,
    },
    { name: "json", description: "one JSON document instead of lines for people" },
  ],
  read: (args) => ({
    rule: args.positionals[0] ?? "",
    endpoint: args.value("endpoint"),
    json: args.flag("json"),
  }),
  run: (options, io) => fire(options, io),
});

/** Resolves with the exit code: 0 when every target succeeded, 1 when one failed. */
export function runFireCommand(args: string[], io: CommandIo): Promise<number> {
  return fireCommand.execute(args, io);
}

async function fire(
  values: { rule: string; endpoint?: string; json: boolean },
  io: CommandIo,
): Promise<number> {
  const { rule } = values;
  const endpoint = (values.endpoint ?? DEFAULT_LOCAL_ENDPOINT).replace(/\/+$/, "");
  let response: Response;
  try {
    response = await fetch(`${endpoint}${firePath(rule)}`, { method: "POST" });
  } catch {
    throw new UserError(
      `Nothing answers at ${endpoint}: start pulumi-live serve --local there, or pass --endpoint URL of its gateway.`,
    );
  }
  const body = (await response.json().catch(() => ({}))) as { message?: string; results?: FireResult[] };
  if (response.status !== 200 || !body.results) {
    throw new UserError(body.message ?? `The gateway at ${endpoint} answered ${response.status}.`);
  }
  if (values.json) io.stdout(JSON.stringify({ rule, results: body.results }) + "\n");
  else {
    for (const r of body.results) {
      io.stdout(
        `${r.ok ? "✓" : "✗"} ${rule} → ${r.functionName} ${r.requestId}${r.ok ? "" : `: ${r.error}`}\n`,
      );
    }
  }
  return body.results.every((r) => r.ok) ? 0 : 1;
}
