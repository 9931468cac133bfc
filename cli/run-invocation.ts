import { buildError } from "../core/lambda-error";
import type { RequestMessage } from "../protocol";
import type { ServedInvocation } from "./served-invocation";
import type { Runner, ServedFunction, SessionEvents } from "./session-types";

/**
 * Runs one request on the function's current build: a broken build answers with the build error, a good
 * one runs in the worker pool. Reports the result and returns what the invocation record holds.
 */
export async function runInvocation(options: {
  fn: ServedFunction;
  request: RequestMessage;
  /** The function's environment, as the stub sent it. */
  environment: Record<string, string>;
  /** The worker's complete environment (computed only when a build is there to run). */
  workerEnvironment: () => Record<string, string>;
  runner: Runner;
  events: Pick<SessionEvents, "result">;
}): Promise<ServedInvocation> {
  const { fn, request, runner, events } = options;
  const env = options.environment;
  const started = Date.now();
  const build = await fn.ready();
  const buildMs = Date.now() - started;
  const served = (
    outcome: ServedInvocation["outcome"],
    logs: string,
    runMs: number,
    coldStart: boolean,
  ): ServedInvocation => ({
    name: fn.name,
    entry: build.entry,
    exportName: fn.exportName,
    requestId: request.requestId,
    envId: request.envId,
    event: request.event,
    context: request.context,
    deadline: request.deadline,
    environment: env,
    logs,
    outcome,
    coldStart,
    timings: { received: 0, build: buildMs, run: runMs, returned: 0 },
  });
  if (!build.ok) {
    const error = buildError(build.error);
    events.result({
      name: fn.name,
      requestId: request.requestId,
      durationMs: Date.now() - started,
      coldStart: false,
      error,
    });
    return served({ ok: false, error }, "", 0, false);
  }
  const outcome = await runner.invoke({
    functionName: fn.name,
    envId: request.envId,
    build,
    exportName: fn.exportName,
    event: request.event,
    context: request.context,
    deadline: request.deadline,
    environment: options.workerEnvironment(),
  });
  events.result({
    name: fn.name,
    requestId: request.requestId,
    durationMs: outcome.durationMs,
    coldStart: outcome.coldStart,
    error: outcome.ok ? undefined : outcome.error,
  });
  const result = outcome.ok
    ? { ok: true as const, result: outcome.result }
    : { ok: false as const, error: outcome.error };
  return served(result, outcome.logs, outcome.durationMs, outcome.coldStart);
}
