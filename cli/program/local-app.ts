/**
 * What a Pulumi program declares that local mode serves: every `LiveFunction` with its handler, timeout,
 * memory and environment, and the triggers pointing at it (function URLs, HTTP API routes, EventBridge
 * schedules, SQS event source mappings); and, once, what it declares that local mode does not emulate.
 * Pure: it reads the resources the program registered under mocks. Triggers name a function by its
 * name, ARN or invoke ARN, whichever the program passed.
 */
import { resolveHandler } from "../../core/handler";
import { FUNCTION_TYPE, SESSION_TYPE } from "../../core/names";
import { STUB_ENV } from "../../protocol/environment";
import type { HttpApiRouteTarget } from "../local/triggers/http-api-routes";
import type { RecordedResource } from "./host-messages";
import { triggersOf } from "./triggers";
import { textValue } from "./text-value";

export interface ProgramFunction {
  /** The LiveFunction's name: the name the gateway serves it under. */
  name: string;
  /** `src/api.handler`, as registered. */
  handler: string;
  file: string;
  exportName: string;
  /** Seconds; undefined when the program leaves Lambda's default. */
  timeoutSeconds?: number;
  memoryMB?: number;
  runtime?: string;
  environment: Record<string, string>;
  arn: string;
  /** Its function URL, when it has one. */
  functionUrl?: { resource: string; authType: string };
}

export interface ProgramApi {
  /** The Api resource's name: served at `/{name}/`. */
  name: string;
  apiId: string;
  routes: HttpApiRouteTarget[];
}

export interface ProgramSchedule {
  /** The rule's resource name (what `pulumi-live fire` takes). */
  rule: string;
  ruleArn: string;
  expression: string;
  enabled: boolean;
  functionName: string;
  /** The target's constant `input` (JSON text), sent instead of the scheduled event. */
  input?: string;
}

export interface ProgramQueue {
  /** The queue's name (with `.fifo`). */
  name: string;
  resource: string;
  arn: string;
  url: string;
  fifo: boolean;
  visibilityTimeoutSeconds: number;
  delaySeconds: number;
  /** From `redrivePolicy`. */
  deadLetter?: { arn: string; maxReceiveCount: number };
}

export interface ProgramMapping {
  resource: string;
  queueArn: string;
  functionName: string;
  batchSize: number;
  reportBatchItemFailures: boolean;
  enabled: boolean;
  maximumBatchingWindowSeconds: number;
}

export interface NotEmulated {
  resource: string;
  type: string;
  /** What to use instead. */
  instead: string;
}

export interface LocalApp {
  functions: ProgramFunction[];
  apis: ProgramApi[];
  schedules: ProgramSchedule[];
  queues: ProgramQueue[];
  mappings: ProgramMapping[];
  notEmulated: NotEmulated[];
  /** LiveFunctions whose handler file is missing, with the message to show. */
  problems: string[];
}

const STUB_VARIABLES = new Set<string>(Object.values(STUB_ENV));

/** Functions of the program and what refers to each (name, ARN, invoke ARN → LiveFunction name). */
export function localAppOf(resources: RecordedResource[], root: string): LocalApp {
  const functions: ProgramFunction[] = [];
  const problems: string[] = [];
  const refs = new Map<string, string>();
  for (const component of resources.filter((r) => r.type === FUNCTION_TYPE)) {
    const fn = resources.find((r) => r.parent === component.urn && r.type === "aws:lambda/function:Function");
    const handler = textValue(component.outputs?.handler);
    const source = handler ? resolveHandler(root, handler) : undefined;
    if (!fn || !source) {
      problems.push(
        `LiveFunction "${component.name}": its handler ${handler || "(none)"} was not found under ${root}.`,
      );
      continue;
    }
    const state = fn.state;
    for (const key of ["name", "arn", "invokeArn", "qualifiedArn"]) {
      const value = state[key];
      if (typeof value === "string") refs.set(value, component.name);
    }
    const variables =
      (fn.inputs.environment as { variables?: Record<string, unknown> } | undefined)?.variables ?? {};
    const environment = new Map<string, string>();
    for (const [key, value] of Object.entries(variables)) {
      if (!STUB_VARIABLES.has(key) && value !== undefined && value !== null) {
        environment.set(key, typeof value === "string" ? value : JSON.stringify(value));
      }
    }
    functions.push({
      name: component.name,
      handler,
      file: source.file,
      exportName: source.exportName,
      ...(typeof fn.inputs.timeout === "number" ? { timeoutSeconds: fn.inputs.timeout } : {}),
      ...(typeof fn.inputs.memorySize === "number" ? { memoryMB: fn.inputs.memorySize } : {}),
      ...(typeof fn.inputs.runtime === "string" ? { runtime: fn.inputs.runtime } : {}),
      environment: Object.fromEntries(environment),
      arn: textValue(state.arn),
    });
  }
  const ownedBy = new Set(
    resources.filter((r) => r.type === FUNCTION_TYPE || r.type === SESSION_TYPE).map((r) => r.urn),
  );
  // Children of LiveFunction and Session (role, policy, the function itself) are pulumi-live's own.
  const programResources = resources.filter((r) => !ownedBy.has(r.parent ?? "") && !ownedBy.has(r.urn));
  return { functions, problems, ...triggersOf(programResources, refs, functions) };
}
