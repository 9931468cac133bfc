/** The invocation record: one JSON file per invocation served, under `.pulumi-live/log/<function>/`. */
import { readFile } from "node:fs/promises";
import type { InvocationContext } from "../../protocol";
import { UserError } from "../user-error";
import type { LambdaError } from "../../core/lambda-error";

/** Bumped when the shape changes incompatibly. */
export const RECORD_VERSION = 1;

/** Where records live, relative to the project root. */
export const LOG_DIR = ".pulumi-live/log";

/** How many records are kept per function unless configured. */
export const DEFAULT_KEEP = 100;

export interface InvocationRecord {
  version: typeof RECORD_VERSION;
  /** The served function's name. */
  function: string;
  /** The handler's source file, relative to the project root (`/` separators), and its export. */
  handler: { file: string; exportName: string };
  requestId: string;
  /** The remote execution environment that sent it. */
  envId: string;
  /** The event, with the credentials of HTTP requests {@link REDACTED} (see `redactEvent`). */
  event: unknown;
  context: InvocationContext;
  /** The remote deadline, epoch ms. */
  deadline: number;
  /** The function's environment as the deployed function has it, secrets {@link REDACTED}. */
  environment: Record<string, string>;
  /** Names whose values were redacted. */
  redacted: string[];
  /** What was redacted in the event (`headers.authorization`, `cookies`); absent in older records. */
  redactedEvent?: string[];
  /** The tail of the handler's output during the invocation. */
  logs: string;
  outcome: { ok: true; result: unknown } | { ok: false; error: LambdaError };
  coldStart: boolean;
  timings: {
    /** When the request arrived, epoch ms. */
    received: number;
    /** Time spent waiting for the build, ms. */
    build: number;
    /** Time the handler ran, ms. */
    run: number;
    /** When the answer was sent, epoch ms. */
    returned: number;
  };
}

/** `2025-01-02T03-04-05-678Z_<request id>.json`: sorting names sorts by arrival. */
export function recordFileName(record: Pick<InvocationRecord, "requestId" | "timings">): string {
  const stamp = new Date(record.timings.received).toISOString().replace(/[:.]/g, "-");
  return `${stamp}_${safeName(record.requestId)}.json`;
}

/** A name safe as one path segment on every platform. */
export function safeName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_");
  return safe.slice(0, 120) || "_";
}

/** Reads and checks a record file; a user error says what is wrong with it. */
export async function readRecord(file: string): Promise<InvocationRecord> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new UserError(`Cannot read the record ${file}: ${(error as Error).message}`);
  }
  let record: Partial<InvocationRecord>;
  try {
    record = JSON.parse(text) as Partial<InvocationRecord>;
  } catch (error) {
    throw new UserError(
      `${file} is not a pulumi-live invocation record (not JSON: ${(error as Error).message}).`,
    );
  }
  const missing = (["function", "handler", "requestId", "context", "timings", "outcome"] as const).filter(
    (field) => record?.[field] === undefined,
  );
  if (typeof record !== "object" || record === null || missing.length > 0) {
    throw new UserError(`${file} is not a pulumi-live invocation record (missing ${missing.join(", ")}).`);
  }
  if (record.version !== RECORD_VERSION) {
    throw new UserError(
      `${file} is a record of version ${String(record.version)}; this pulumi-live reads version ${RECORD_VERSION}.`,
    );
  }
  return record as InvocationRecord;
}
