import type { MqttConnectionOptions } from "./mqtt-connection";
import type { BuildResult } from "./runtime/builder";
import type { InvokeOutcome, InvokeRequest } from "./runtime/worker-pool";
import type { InvocationRecorderHook } from "./served-invocation";
import type { SessionConnection } from "./spread-connection";
import type { LambdaError } from "../core/lambda-error";

/** A function this session serves from local source. */
export interface ServedFunction {
  name: string;
  functionId: string;
  exportName: string;
  /** The build to run: the last good one, or the failure while the source is broken. */
  ready(): Promise<BuildResult>;
}

export interface Runner {
  invoke(request: InvokeRequest): Promise<InvokeOutcome>;
}

/** What a session tells the person (or the NDJSON stream) about. */
export interface SessionEvents {
  invoke(e: { name: string; requestId: string; envId: string; bytes: number }): void;
  result(e: {
    name: string;
    requestId: string;
    durationMs: number;
    coldStart: boolean;
    error?: LambdaError;
  }): void;
  drop(e: { reason: string; topic: string }): void;
  status(e: { message: string }): void;
  takeover(e: { sessionId: string; host?: string }): void;
}

export interface SessionOptions {
  key: Buffer;
  prefix: string;
  functions: ServedFunction[];
  runner: Runner;
  events: SessionEvents;
  /** Opens the MQTT connection with the will this session needs. */
  connect(will: NonNullable<MqttConnectionOptions["will"]>, clientSuffix: string): Promise<SessionConnection>;
  /** How long a finished request's answer is kept to answer a duplicate delivery (ms). @default 60_000 */
  dedupeMs?: number;
  /**
   * How long a joining or reconnected session waits for the retained presence before announcing itself
   * (ms). It normally arrives right after the subscription. @default 500
   */
  joinWaitMs?: number;
  /** Shortest time between two repairs of the presence (ms). @default 1000 */
  repairIntervalMs?: number;
  /** How often the retained presence is read again, to notice a newer session whose news was lost (ms). @default 60_000 */
  presenceCheckMs?: number;
  /** Told of every invocation served, once answered (the invocation record). */
  recorder?: InvocationRecorderHook;
}
