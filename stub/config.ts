import { STUB_ENV, parseKey } from "../protocol";
import { RelayError } from "./relay-error";
import type { AwsCredentials } from "./sigv4";

/** Where the stub's MQTT connection goes. */
export type BrokerTarget =
  | { kind: "iot"; endpoint: string; region: string }
  /** A plain broker URL (`ws://127.0.0.1:1884`): local mode and tests; local mode's needs a password. */
  | { kind: "url"; url: string; password?: string };

/** The stub's settings, read once from its environment. */
export interface StubConfig {
  prefix: string;
  functionId: string;
  key: Buffer;
  clientPrefix: string;
  /** `project/stack`, for messages. */
  stack: string;
  broker: BrokerTarget;
  /** `file.export` of the real handler, relative to the stub's folder; run when no session is online. */
  fallback?: string;
  ackTimeoutMs: number;
}

export const DEFAULT_ACK_TIMEOUT_MS = 2000;

const REDEPLOY = "Redeploy the function in live mode with `pulumi up` (pulumi config set live true).";

/**
 * Reads and validates the stub's variables (`STUB_ENV`). Every problem is reported at once, naming the
 * variables, since they are all written by the deployment and only a redeploy fixes them.
 */
export function readStubConfig(env: NodeJS.ProcessEnv): StubConfig {
  const problems: string[] = [];
  const missing: string[] = [];
  const need = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) missing.push(name);
    return value ?? "";
  };
  const prefix = need(STUB_ENV.prefix);
  const functionId = need(STUB_ENV.functionId);
  const keyText = need(STUB_ENV.key);
  const clientPrefix = need(STUB_ENV.clientPrefix);
  const stack = need(STUB_ENV.stack);

  let broker: BrokerTarget = { kind: "url", url: "" };
  const brokerUrl = env[STUB_ENV.brokerUrl]?.trim();
  const endpoint = env[STUB_ENV.endpoint]?.trim();
  if (brokerUrl) {
    if (!/^wss?:\/\/[^/]/.test(brokerUrl)) {
      problems.push(`${STUB_ENV.brokerUrl} must be a ws:// or wss:// URL (got "${brokerUrl}")`);
    }
    const password = env[STUB_ENV.brokerSecret]?.trim();
    broker = { kind: "url", url: brokerUrl, ...(password ? { password } : {}) };
  } else if (endpoint) {
    const region = need("AWS_REGION");
    need("AWS_ACCESS_KEY_ID");
    need("AWS_SECRET_ACCESS_KEY");
    broker = { kind: "iot", endpoint, region };
  } else {
    missing.push(`${STUB_ENV.endpoint} (or ${STUB_ENV.brokerUrl})`);
  }

  let key: Buffer = Buffer.alloc(0);
  if (keyText) {
    try {
      key = parseKey(keyText);
    } catch (error) {
      problems.push(`${STUB_ENV.key} is not valid: ${(error as Error).message}`);
    }
  }

  let ackTimeoutMs = DEFAULT_ACK_TIMEOUT_MS;
  const ackText = env[STUB_ENV.ackTimeoutMs]?.trim();
  if (ackText) {
    ackTimeoutMs = Number(ackText);
    if (!Number.isInteger(ackTimeoutMs) || ackTimeoutMs <= 0) {
      problems.push(
        `${STUB_ENV.ackTimeoutMs} must be a positive whole number of milliseconds (got "${ackText}")`,
      );
    }
  }

  const fallback = env[STUB_ENV.fallback]?.trim() || undefined;
  if (fallback && !/^[^.].*\.[^./]+$/.test(fallback)) {
    problems.push(
      `${STUB_ENV.fallback} must look like "file.export", e.g. "fallback/index.handler" (got "${fallback}")`,
    );
  }

  if (missing.length > 0) problems.unshift(`missing ${missing.join(", ")}`);
  if (problems.length > 0) {
    throw new RelayError(
      "Config",
      `The pulumi-live relay stub is misconfigured: ${problems.join("; ")}. ${REDEPLOY}`,
    );
  }
  return { prefix, functionId, key, clientPrefix, stack, broker, fallback, ackTimeoutMs };
}

/** The credentials Lambda gives the function's role, read when (re)signing a connection. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): AwsCredentials {
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID ?? "",
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "",
    sessionToken: env.AWS_SESSION_TOKEN || undefined,
  };
}
