/** Opens Node's inspector in the CLI process, through which a debugger also reaches the handlers' workers. */
import inspector from "node:inspector";
import { UserError } from "../user-error";

/** Where the inspector listens. */
export interface InspectAddress {
  host: string;
  port: number;
}

/** Node's own default for `--inspect`. */
export const DEFAULT_INSPECT: InspectAddress = { host: "127.0.0.1", port: 9229 };

/**
 * Parses the value of `--inspect[=host:port]`: `true` or "" for the default, `PORT`, `HOST:PORT` or
 * `HOST` (port 9229). Port 0 picks a free port.
 */
export function parseInspect(value: string | true): InspectAddress {
  if (value === true || value === "") return { ...DEFAULT_INSPECT };
  const match = /^(?:\[([^\]]+)\]|([^:]*?))(?::(\d+))?$/.exec(value);
  const bare = /^\d+$/.test(value);
  const host = bare ? DEFAULT_INSPECT.host : (match?.[1] ?? match?.[2] ?? "");
  const port = Number(bare ? value : (match?.[3] ?? DEFAULT_INSPECT.port));
  if (!match || host === "" || !Number.isInteger(port) || port > 65535) {
    throw new UserError(
      `Invalid --inspect "${value}": expected --inspect, --inspect=PORT or --inspect=HOST:PORT (e.g. 127.0.0.1:9229).`,
    );
  }
  return { host, port };
}

/**
 * Opens the inspector (Node prints "Debugger listening on ws://..." to stderr), or keeps the one
 * already open (`node --inspect`, or an editor's debugger). Returns its WebSocket URL.
 */
export function openInspector(address: InspectAddress | undefined): string {
  const open = inspector.url();
  if (open) return open;
  if (!address) throw new Error("openInspector: no address and no inspector open");
  try {
    inspector.open(address.port, address.host, false);
  } catch (error) {
    throw new UserError(
      `Cannot open the debugger on ${address.host}:${address.port}: ${(error as Error).message}. ` +
        "Another process may use the port: pick another with --inspect=HOST:PORT (0 picks a free one).",
    );
  }
  const url = inspector.url();
  if (!url) {
    throw new UserError(
      `The debugger did not start on ${address.host}:${address.port}: the port is probably in use. ` +
        "Pick another with --inspect=HOST:PORT (0 picks a free one).",
    );
  }
  return url;
}

/** Whether a debugger can reach this process already (started with --inspect or by an editor). */
export function inspectorActive(): boolean {
  return inspector.url() !== undefined;
}

/** What the user reads when an invocation held by the debugger outlives its remote deadline. */
export function deadlinePassedMessage(e: {
  functionName: string;
  requestId: string;
  budgetMs: number;
}): string {
  const seconds = (e.budgetMs / 1000).toFixed(1);
  return (
    `${e.functionName} ${e.requestId.slice(0, 8)}: held past its deadline (${seconds} s), by the debugger ` +
    "probably. The caller has already seen a timeout and this answer will be discarded. To step through " +
    "without that, give the LiveFunction a longer liveTimeout (e.g. liveTimeout: 900) and run pulumi up " +
    "(with --local: --timeout SECONDS)."
  );
}
