import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";

/** A local moto_server (AWS APIs in Python): its STS issues the functions' temporary credentials. */
export interface Moto {
  url: string;
  close(): Promise<void>;
}

/** Whether moto_server is installed. Under CI (`CI=true`) it must be: a missing one fails the run. */
export function motoAvailable(): boolean {
  const found = spawnSync("moto_server", ["--help"], { stdio: "ignore" }).status === 0;
  if (!found && process.env.CI === "true") {
    throw new Error(
      "CI=true: moto_server is required (pip install 'moto[server]'), and it is not installed.",
    );
  }
  return found;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts moto_server on 127.0.0.1 and waits (at most 30 s) until it answers. */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const child: ChildProcess = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    const up = await fetch(`${url}/moto-api/`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error("moto_server did not answer within 30 s");
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** The role's temporary credentials as Lambda gets them: sts:AssumeRole with the function's name. */
export async function assumeRole(
  moto: Moto,
  roleArn: string,
  sessionName: string,
): Promise<{
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration?: Date;
  principal: string;
}> {
  const credentials = await fromTemporaryCredentials({
    params: { RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: 3600 },
    masterCredentials: { accessKeyId: "moto", secretAccessKey: "moto" },
    clientConfig: { endpoint: moto.url, region: "us-east-1" },
  })();
  const [, account, role] = /^arn:aws:iam::(\d{12}):role\/(.+)$/.exec(roleArn)!;
  return {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken!,
    expiration: credentials.expiration,
    principal: `arn:aws:sts::${account}:assumed-role/${role.split("/").at(-1)}/${sessionName}`,
  };
}
