import type { MqttConnectionOptions } from "./mqtt-connection";
import type { BuildResult } from "./runtime/builder";
import type { InvokeOutcome, InvokeRequest } from "./runtime/worker-pool";
import type { InvocationRecorderHook } from "./served-invocation";
import type { SessionConnection } from "./spread-connection";
import type { DropEvent, InvokeEvent, ResultEvent, StatusEvent, TakeoverEvent } from "./events";

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
  invoke(e: InvokeEvent): void;
  result(e: ResultEvent): void;
  drop(e: DropEvent): void;
  status(e: StatusEvent): void;
  takeover(e: TakeoverEvent): void;
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
