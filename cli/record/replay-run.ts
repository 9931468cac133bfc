/** Runs a recorded invocation again against the current source: no broker, no AWS. */
import { existsSync } from "node:fs";
import path from "node:path";
import { localEnvironment } from "../../core/local-environment";
import { isPythonFile } from "../../core/python";
import { localVariables } from "../runtime/local-variables";
import { FunctionBuilder } from "../runtime/builder";
import type { PythonBuilder } from "../runtime/python/python-builder";
import { pythonFunctionBuilder } from "../runtime/python/python-function";
import { WorkerPool } from "../runtime/worker-pool";
import type { AwsCredentials } from "../../core/credentials";
import { buildError } from "../../core/lambda-error";
import { UserError } from "../user-error";
import { safeName, type InvocationRecord } from "./invocation-record";
import { inspectorActive } from "../debug/inspector";
import type { LambdaError } from "../../core/lambda-error";

const AWS_CREDENTIAL_NAMES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];

/**
 * The function's environment for a replay: the recorded one without its redacted values, with the
 * credentials of now (or none). `missing`: redacted variables the local shell does not set either.
 */
export function replayEnvironment(
  record: Pick<InvocationRecord, "environment" | "redacted">,
  credentials: AwsCredentials | undefined,
  local: NodeJS.ProcessEnv,
): { environment: Record<string, string>; missing: string[] } {
  const environment: Record<string, string> = {};
  const redacted = new Set(record.redacted);
  for (const [name, value] of Object.entries(record.environment)) {
    if (!redacted.has(name) && !AWS_CREDENTIAL_NAMES.includes(name)) environment[name] = value;
  }
  if (credentials) {
    environment.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    environment.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
    if (credentials.sessionToken) environment.AWS_SESSION_TOKEN = credentials.sessionToken;
  }
  // Redacted values the developer exported in this shell are passed on by name: nothing else of the shell is.
  for (const name of record.redacted) {
    const value = local[name];
    if (value !== undefined && !AWS_CREDENTIAL_NAMES.includes(name)) environment[name] = value;
  }
  const missing = record.redacted.filter(
    (name) => !(name in environment) && !AWS_CREDENTIAL_NAMES.includes(name),
  );
  return { environment, missing };
}

/** How the replay went: the outcome, or the build's failure as a Lambda-shaped error. */
export type ReplayOutcome = ({ ok: true; result: unknown } | { ok: false; error: LambdaError }) & {
  logs: string;
  durationMs: number;
  coldStart: boolean;
};

export interface ReplayRunOptions {
  /** The project root the record's handler path is relative to. */
  root: string;
  /** The local process's environment: the handler keeps its machine basics (see `localEnvironment`). */
  local: NodeJS.ProcessEnv;
  environment: Record<string, string>;
  onLog?: (line: string) => void;
  /** The interpreter of a Python handler (else the project's .venv, else python3). */
  python?: string;
}

/** Builds the record's handler from the current source and runs the recorded event once. */
export async function runReplay(record: InvocationRecord, options: ReplayRunOptions): Promise<ReplayOutcome> {
  const entry = path.resolve(options.root, record.handler.file);
  if (!existsSync(entry)) {
    throw new UserError(
      `The recorded handler ${record.handler.file} is not in ${options.root}. Run replay from the project the record was made in.`,
    );
  }
  // Its own folder (the builder removes it when disposed): replays may run while a serve builds.
  const outDir = path.join(
    options.root,
    ".pulumi-live",
    "build",
    "replay",
    safeName(record.function),
    String(process.pid),
  );
  const builder: FunctionBuilder | PythonBuilder = isPythonFile(entry)
    ? pythonFunctionBuilder({
        name: record.function,
        file: entry,
        exportName: record.handler.exportName,
        interpreter: options.python,
        outDir,
        watch: false,
        status: (message) => options.onLog?.(`pulumi-live: ${message}`),
      })
    : new FunctionBuilder({
        name: record.function,
        entry,
        exportName: record.handler.exportName,
        outDir,
        watch: false,
        cwd: options.root,
      });
  const pool = new WorkerPool({
    concurrency: 1,
    // The project's env file applies to replays as to serve.
    localVariables: localVariables(options.root, {}),
    debugging: inspectorActive(),
    onLog: (e) => options.onLog?.(e.line),
  });
  try {
    const build = await builder.start();
    if (!build.ok) {
      const error = buildError(build.error);
      return { ok: false, error, logs: "", durationMs: 0, coldStart: false };
    }
    // The time it had then: the same budget from now.
    const budget = Math.max(1000, record.deadline - record.timings.received);
    return await pool.invoke({
      functionName: record.function,
      envId: "replay",
      build,
      exportName: record.handler.exportName,
      event: record.event,
      context: record.context,
      deadline: Date.now() + budget,
      environment: localEnvironment(options.local, options.environment),
    });
  } finally {
    await Promise.allSettled([pool.close(), builder.dispose()]);
  }
}
