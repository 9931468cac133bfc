import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A test certificate authority and a server certificate it signed for `localhost` and 127.0.0.1. */
export interface TestTls {
  /** PEM file of the CA: `--ca-file` of the CLI, `NODE_EXTRA_CA_CERTS` of a Lambda-like host. */
  caFile: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

let made: Promise<TestTls> | undefined;

/**
 * Makes (once per process) a throwaway CA and server certificate with the openssl command, in a temp
 * folder removed when the process exits. EC P-256 keys: fast to make and supported by every TLS stack
 * involved (Node's and aws-crt's s2n).
 */
export function testTls(): Promise<TestTls> {
  made ??= (async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "pulumi-live-test-ca-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string) => path.join(dir, name);
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    await run("openssl", [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      file("ca.key"),
      "-out",
      file("ca.pem"),
      "-days",
      "3",
      "-subj",
      "/CN=pulumi-live test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    await run("openssl", [
      "req",
      ...ec,
      "-keyout",
      file("server.key"),
      "-out",
      file("server.csr"),
      "-subj",
      "/CN=localhost",
    ]);
    writeFileSync(
      file("server.ext"),
      "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    );
    await run("openssl", [
      "x509",
      "-req",
      "-in",
      file("server.csr"),
      "-CA",
      file("ca.pem"),
      "-CAkey",
      file("ca.key"),
      "-CAcreateserial",
      "-out",
      file("server.pem"),
      "-days",
      "2",
      "-extfile",
      file("server.ext"),
    ]);
    return {
      caFile: file("ca.pem"),
      ca: readFileSync(file("ca.pem")),
      cert: readFileSync(file("server.pem")),
      key: readFileSync(file("server.key")),
    };
  })();
  return made;
}
