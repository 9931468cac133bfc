/** moto_server (a local AWS API) on a free port, for tests of what AWS SDK clients in handlers do. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

/** Whether moto_server can run here. */
export const motoInstalled = spawnSync("moto_server", ["--help"], { stdio: "ignore" }).status === 0;

/** CI must run these tests: there a missing moto_server fails instead of skipping. */
export const motoRequired = process.env.CI === "true" || process.env.PULUMI_LIVE_REQUIRE_MOTO === "1";

export interface Moto {
  url: string;
  /** Calls an action of the query API (IAM, STS) as the given access key; returns the XML. */
  call(service: "iam" | "sts", params: Record<string, string>, accessKeyId?: string): Promise<string>;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Starts moto_server on 127.0.0.1; resolves once it answers (bounded: 20 s). */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: "ignore",
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const close = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await fetch(`${url}/moto-api/`);
      break;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) {
        await close();
        throw new Error(`moto_server did not start on ${url}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    close,
    async call(service, params, accessKeyId = "AKIAIOSFODNN7EXAMPLE") {
      // moto reads the caller from the signature's credential scope; it does not check the signature.
      const response = await fetch(`${url}/`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20250101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
        },
        body: new URLSearchParams({ Version: service === "iam" ? "2010-05-08" : "2011-06-15", ...params }),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`moto ${params.Action}: ${response.status} ${text}`);
      return text;
    },
  };
}

/** The text of the first `<name>` element of an XML answer. */
export function xmlValue(xml: string, name: string): string {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  if (!match) throw new Error(`no <${name}> in ${xml.slice(0, 300)}`);
  return match[1];
}
