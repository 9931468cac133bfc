import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The stack exports of the demo program, written once by a child process (see write-export.ts). */
export async function writeExports(dir: string): Promise<{ live: string; off: string }> {
  const script = path.join(__dirname, "write-export.js");
  const live = path.join(dir, "export-live.json");
  const off = path.join(dir, "export-off.json");
  await Promise.all([
    run(process.execPath, [script, live, "live"]),
    run(process.execPath, [script, off, "off"]),
  ]);
  return { live, off };
}

/** What the fake `pulumi` does: print a stack export, or fail as the real CLI does. */
export type FakeBehaviour = { export: string } | { stderr: string; code: number };

/** The real CLI's stderr for each failure discovery explains. */
export const PULUMI_FAILURES = {
  notLoggedIn: "error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions\n",
  noSuchStack: "error: no stack named 'staging' found\n",
  noStackSelected:
    "error: no stack selected; please use `pulumi stack select` or `pulumi stack init` to choose one\n",
  passphrase:
    "error: getting secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or " +
    "PULUMI_CONFIG_PASSPHRASE_FILE environment variables\n",
} as const;

export interface FakePulumi {
  /** A folder holding only the fake `pulumi`. */
  bin: string;
  /** PATH with the fake first. */
  env: NodeJS.ProcessEnv;
  /** The argument lists it was called with, one per call. */
  calls(): Promise<string[][]>;
  remove(): Promise<void>;
}

/** Writes an executable `pulumi` shell script that records its arguments and behaves as told. */
export async function fakePulumi(behaviour: FakeBehaviour): Promise<FakePulumi> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "pulumi-live-fake-pulumi-")));
  const bin = path.join(dir, "bin");
  await mkdir(bin);
  const log = path.join(dir, "calls.log");
  const body =
    "export" in behaviour
      ? `cat '${behaviour.export}'\nexit 0\n`
      : `cat >&2 <<'PULUMI_EOF'\n${behaviour.stderr}PULUMI_EOF\nexit ${behaviour.code}\n`;
  const script = `#!/bin/sh\nprintf '%s\\037' "$@" >> '${log}'\nprintf '\\n' >> '${log}'\n${body}`;
  await writeFile(path.join(bin, "pulumi"), script);
  await chmod(path.join(bin, "pulumi"), 0o755);
  return {
    bin,
    env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` },
    calls: async () => {
      const text = await readFile(log, "utf8").catch(() => "");
      return text
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split("\u001f").filter((_, i, all) => i < all.length - 1));
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A project folder as the demo's: Pulumi.yaml and the three handlers (the repo's own sources by default). */
export async function demoProject(handlers: Record<string, string> = {}): Promise<{
  root: string;
  remove(): Promise<void>;
}> {
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), "pulumi-live-project-")));
  const repo = path.join(__dirname, "../../..");
  await writeFile(path.join(root, "Pulumi.yaml"), "name: pulumi-live-demo\nruntime: nodejs\n");
  await mkdir(path.join(root, "examples/handlers"), { recursive: true });
  for (const name of ["api", "worker", "cron"]) {
    const source =
      handlers[name] ?? (await readFile(path.join(repo, "examples/handlers", `${name}.ts`), "utf8"));
    await writeFile(path.join(root, "examples/handlers", `${name}.ts`), source);
  }
  return { root, remove: () => rm(root, { recursive: true, force: true }) };
}
