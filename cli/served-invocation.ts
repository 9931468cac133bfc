/** What a session tells its recorder about each invocation it served. */
import type { RequestMessage } from "../protocol";
import type { LambdaError } from "../core/lambda-error";

/** One invocation as served: what the invocation record is made of. */
export interface ServedInvocation {
  name: string;
  /** Absolute path of the handler's source file. */
  entry: string;
  exportName: string;
  requestId: string;
  envId: string;
  event: unknown;
  context: RequestMessage["context"];
  deadline: number;
  /** The function's environment as the stub sent it (not yet redacted). */
  environment: Record<string, string>;
  logs: string;
  outcome: { ok: true; result: unknown } | { ok: false; error: LambdaError };
  coldStart: boolean;
  /** `received` and `returned` are epoch ms; `build` and `run` durations in ms. */
  timings: { received: number; build: number; run: number; returned: number };
}

/** Receives each served invocation; must not throw. */
export interface InvocationRecorderHook {
  record(served: ServedInvocation): void;
}
