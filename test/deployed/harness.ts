import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { LocalFunction } from "../../cli/local/environments";
import type { Identity, IotCoreStandIn, PolicyDocument } from "../iot-core/stand-in";
import { assumeRole, type Moto } from "../iot-core/moto";
import type { DeployedFunction } from "./deployment";

export const BIN = path.join(__dirname, "../../../bin/pulumi-live.js");

/** The README's developer policy (the JSON block of "Serve from your machine"), parsed. */
export async function readmePolicy(): Promise<PolicyDocument> {
  const text = await readFile(path.join(__dirname, "../../../README.md"), "utf8");
  const section = text.slice(text.indexOf("## Serve from your machine"));
  return JSON.parse(/```json\n([\s\S]*?)\n```/.exec(section)![1]) as PolicyDocument;
}

/**
 * The function role's temporary credentials, registered with the stand-in under the role's policies:
 * from moto's STS (sts:AssumeRole with the function's name, as Lambda does) when moto runs, otherwise
 * minted here in the same shape.
 */
export async function roleIdentity(
  standIn: IotCoreStandIn,
  fn: DeployedFunction,
  moto?: Moto,
): Promise<Identity> {
  const issued = moto
    ? await assumeRole(moto, fn.roleArn, fn.functionName)
    : {
        accessKeyId: `ASIA${randomBytes(8).toString("hex").toUpperCase()}`,
        secretAccessKey: randomBytes(30).toString("base64"),
        sessionToken: `IQoJ${randomBytes(64).toString("base64")}`,
        expiration: new Date(Date.now() + 3600_000),
        principal: `arn:aws:sts::${standIn.accountId}:assumed-role/${fn.roleName}/${fn.functionName}`,
      };
  const identity: Identity = { ...issued, policies: fn.policies };
  await standIn.principals.add(identity);
  return identity;
}

/**
 * Runs a function's archive in local Lambda-like environments, its handler loaded as Lambda loads it,
 * with the function's environment and its role's credentials. One change to what was deployed:
 * PULUMI_LIVE_ENDPOINT names the stand-in (`localhost:PORT`) instead of the account's IoT endpoint, and
 * the environment trusts the stand-in's test CA (NODE_EXTRA_CA_CERTS).
 */
export async function functionHost(
  fn: DeployedFunction,
  standIn: IotCoreStandIn,
  identity: Identity,
  dir: string,
  options: { maxEnvironments?: number; environment?: Record<string, string> } = {},
): Promise<LocalFunction> {
  const root = path.join(dir, `${fn.name}-${randomBytes(3).toString("hex")}`);
  for (const [file, text] of Object.entries(fn.files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
  const dot = fn.handler.lastIndexOf(".");
  return new LocalFunction({
    name: fn.functionName,
    handlerFile: path.join(root, `${fn.handler.slice(0, dot)}.js`),
    handlerExport: fn.handler.slice(dot + 1),
    timeoutSeconds: fn.timeoutSeconds,
    region: standIn.region,
    maxEnvironments: options.maxEnvironments ?? 4,
    environment: {
      ...fn.environment,
      ...options.environment,
      PULUMI_LIVE_ENDPOINT: standIn.endpoint,
      AWS_ACCESS_KEY_ID: identity.accessKeyId,
      AWS_SECRET_ACCESS_KEY: identity.secretAccessKey,
      AWS_SESSION_TOKEN: identity.sessionToken ?? "",
      NODE_EXTRA_CA_CERTS: standIn.caFile,
    },
  });
}

/** Invokes a hosted function with a JSON event; the result parsed, with the log tail. */
export async function invoke(host: LocalFunction, event: unknown) {
  const result = await host.invoke(Buffer.from(JSON.stringify(event)), {
    tail: true,
    requestId: randomUUID(),
  });
  return { ...result, value: JSON.parse(result.payload.toString() || "null") as unknown };
}

export type Line = { type: string } & Record<string, any>;

/** `node bin/pulumi-live.js ARGS` with its NDJSON (or text) output followed line by line. */
export function spawnPulumiLive(
  t: { teardown(fn: () => unknown): void },
  args: string[],
  env: NodeJS.ProcessEnv,
) {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  t.teardown(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"));
  const lines: Line[] = [];
  const waiters: { match: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  let stdout = "";
  createInterface({ input: child.stdout }).on("line", (text) => {
    stdout += text + "\n";
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      return;
    }
    lines.push(line);
    for (const w of waiters.splice(0))
      if (w.match(line)) w.resolve(line);
      else waiters.push(w);
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, "exit") as Promise<[number | null, string | null]>;
  const next = (match: (l: Line) => boolean, timeoutMs = 30_000) =>
    new Promise<Line>((resolve, reject) => {
      const seen = lines.find(match);
      if (seen) return resolve(seen);
      const timer = setTimeout(
        () => reject(new Error(`no matching line within ${timeoutMs} ms; stderr:\n${stderr}`)),
        timeoutMs,
      );
      waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void exited.then(([code]) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code} first; stderr:\n${stderr}`));
      });
    });
  return { child, lines, next, exited, stdout: () => stdout, stderr: () => stderr };
}

/** The environment of a spawned CLI: the fake pulumi first on PATH, these static AWS credentials only. */
export function cliEnv(
  pathEnv: NodeJS.ProcessEnv,
  identity: Pick<Identity, "accessKeyId" | "secretAccessKey" | "sessionToken">,
  dir: string,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...pathEnv,
    AWS_ACCESS_KEY_ID: identity.accessKeyId,
    AWS_SECRET_ACCESS_KEY: identity.secretAccessKey,
    AWS_CONFIG_FILE: path.join(dir, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "no-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
  };
  if (identity.sessionToken) env.AWS_SESSION_TOKEN = identity.sessionToken;
  else delete env.AWS_SESSION_TOKEN;
  delete env.AWS_PROFILE;
  return env;
}
