import { createHash } from "node:crypto";

/** The stub's own settings: they configure the relay and never reach the local handler. */
export const STUB_ENV = {
  /** Topic prefix of the stack (`pulumi-live/<organization>/<project>/<stack>/<namespace id>`). */
  prefix: "PULUMI_LIVE_PREFIX",
  /** The function's id as used in topics. */
  functionId: "PULUMI_LIVE_FUNCTION_ID",
  /** Base64 of the 256-bit session key. */
  key: "PULUMI_LIVE_KEY",
  /** Client id prefix the stack's IAM policy allows stubs (sessions have another). */
  clientPrefix: "PULUMI_LIVE_CLIENT_PREFIX",
  /** `project/stack`, for messages. */
  stack: "PULUMI_LIVE_STACK",
  /** AWS IoT data endpoint host (`xxxx-ats.iot.REGION.amazonaws.com`). */
  endpoint: "PULUMI_LIVE_ENDPOINT",
  /** A plain broker URL (`ws://127.0.0.1:1884`) used instead of the endpoint: local mode and tests. */
  brokerUrl: "PULUMI_LIVE_BROKER_URL",
  /** The password of local mode's embedded broker, made for each run (user name `pulumi-live`). */
  brokerSecret: "PULUMI_LIVE_BROKER_SECRET",
  /** `file.export` of the real bundle shipped next to the stub, run when no session is online. */
  fallback: "PULUMI_LIVE_FALLBACK",
  /** How long to wait for a session's ack before failing (ms). */
  ackTimeoutMs: "PULUMI_LIVE_ACK_TIMEOUT_MS",
} as const;

/**
 * Variables that describe the remote machine rather than the function: the stub does not send them, and
 * a local handler never gets them from a request (see `core/local-environment`).
 */
export const MACHINE_ENV: ReadonlySet<string> = new Set([
  "PATH",
  "LD_LIBRARY_PATH",
  "NODE_PATH",
  "NODE_OPTIONS",
  "NODE_EXTRA_CA_CERTS",
  "LAMBDA_TASK_ROOT",
  "LAMBDA_RUNTIME_DIR",
  "AWS_LAMBDA_RUNTIME_API",
  "_HANDLER",
  "_X_AMZN_TRACE_ID",
  "PWD",
  "OLDPWD",
  "HOME",
  "SHLVL",
  "_",
]);

const STUB_ENV_NAMES = new Set<string>(Object.values(STUB_ENV));

/** The function's environment as the stub sends it: everything but machine and stub settings. */
export function functionEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value === undefined || MACHINE_ENV.has(name) || STUB_ENV_NAMES.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** A stable hash of an environment, so it travels only when first seen or changed. */
export function environmentHash(env: Record<string, string>): string {
  const hash = createHash("sha256");
  for (const name of Object.keys(env).sort()) hash.update(`${name}\u0000${env[name]}\u0000`);
  return hash.digest("base64url").slice(0, 22);
}
