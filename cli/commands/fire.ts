/** `pulumi-live fire <rule>`: fires a local EventBridge schedule of `serve --local` now. */
import { parseArgs } from "node:util";
import { firePath } from "../local/local-triggers";
import type { FireResult } from "../local/triggers/schedules";
import { UserError } from "../user-error";
import type { CommandIo } from "./command-io";
import { DEFAULT_LOCAL_ENDPOINT } from "./invoke";

export const FIRE_HELP = `Usage: pulumi-live fire <rule> [--endpoint URL] [--json]

Fires an EventBridge schedule of the program served by pulumi-live serve --local now: each of the rule's
target functions gets the scheduled event (or the target's input) and the answers are printed.

  <rule>            the EventBridge rule's resource name, as serve --local lists it
  --endpoint URL    the local gateway (default http://127.0.0.1:3000)
  --json            one JSON document instead of lines for people
`;

/** Resolves with the exit code: 0 when every target succeeded, 1 when one failed. */
export async function runFireCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      endpoint: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(FIRE_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UserError(`fire takes one rule name.\n\n${FIRE_HELP}`);
  const rule = positionals[0];
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
