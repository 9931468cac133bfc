import type { MqttConnection, MqttConnectionOptions } from "./mqtt-connection";
import type { BuildResult } from "./runtime/builder";
import type { InvokeOutcome, InvokeRequest } from "./runtime/worker-pool";
import type { InvocationRecorderHook } from "./served-invocation";
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
  connect(will: NonNullable<MqttConnectionOptions["will"]>, clientSuffix: string): Promise<MqttConnection>;
  /** How long a finished request's answer is kept to answer a duplicate delivery (ms). */
  dedupeMs?: number;
  /** Told of every invocation served, once answered (the invocation record). */
  recorder?: InvocationRecorderHook;
}
