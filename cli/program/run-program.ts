import { fork } from "node:child_process";
import path from "node:path";
import { UserError } from "../user-error";
import type { HostInput, HostReport, RecordedResource } from "./host-messages";
import { describeProgramError, FUNCTION_FLAG_HINT } from "./program-error";
import type { ProgramProject } from "./project";

export interface RunProgramOptions {
  project: ProgramProject;
  gatewayUrl: string;
  /** Past this the program is stopped and reported as hanging. @default 60000 */
  timeoutMs?: number;
  /** Paths in messages are relative to this folder. @default process.cwd() */
  cwd?: string;
}

export interface ProgramRun {
  resources: RecordedResource[];
  /** Lookups the mocks could not answer (they returned nothing). */
  unknownCalls: string[];
  region: string;
  account: string;
}

/** The account id local mode uses in ARNs. */
export const LOCAL_ACCOUNT = "000000000000";

/** pulumi-live's own compiled folders: an error thrown in them is reported at the caller's line. */
const OWN = ["sdk", "cli", "core", "protocol"].map((dir) => path.resolve(__dirname, "..", "..", dir));

/**
 * Runs the project's program under Pulumi's mocks with `live` on, in a child process bounded by a timeout,
 * and returns what it registered. Failures are `UserError`s naming the file and line.
 */
export async function runProgram(options: RunProgramOptions): Promise<ProgramRun> {
  const { project } = options;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const region = project.config["aws:region"] ?? "us-east-1";
  const input: HostInput = {
    root: project.root,
    main: project.main,
    typescript: project.typescript,
    project: project.name,
    stack: project.stack,
    config: { ...project.config, [`${project.name}:live`]: "true" },
    secretKeys: project.secretKeys,
    region,
    account: LOCAL_ACCOUNT,
    gatewayUrl: options.gatewayUrl,
  };
  const child = fork(path.join(__dirname, "program-host.js"), [], {
    cwd: project.root,
    execArgv: project.nodeargs,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, PULUMI_LIVE_LOCAL_PROGRAM: "1" },
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    output.splice(0, Math.max(0, output.length - 20));
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const tail = () => (output.length > 0 ? `\nIts last output:\n  ${output.join("\n  ")}` : "");
  const relativeMain = path.relative(options.cwd ?? process.cwd(), project.main) || project.main;

  const report = await new Promise<
    HostReport | { type: "timeout" } | { type: "exit"; code: number | null; signal: string | null }
  >((resolve) => {
    const timer = setTimeout(() => resolve({ type: "timeout" }), timeoutMs);
    child.once("message", (message: HostReport) => {
      clearTimeout(timer);
      resolve(message);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ type: "exit", code, signal });
    });
    child.once("error", () => {
      clearTimeout(timer);
      resolve({ type: "exit", code: null, signal: null });
    });
    child.send(input);
  });
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  switch (report.type) {
    case "done":
      return {
        resources: report.resources,
        unknownCalls: report.unknownCalls,
        region,
        account: LOCAL_ACCOUNT,
      };
    case "failed": {
      const calls =
        report.unknownCalls.length > 0
          ? `\nLookups local mode cannot answer (they returned nothing): ${report.unknownCalls.join(", ")}.`
          : "";
      const where = { main: project.main, cwd: options.cwd ?? process.cwd(), skip: OWN };
      throw new UserError(describeProgramError(report.error, where) + calls + tail());
    }
    case "timeout":
      throw new UserError(
        `The Pulumi program ${relativeMain} did not finish within ${Math.round(timeoutMs / 1000)} s under mocks: ` +
          `it waits for something that never comes (a network call, a promise never resolved, a server it starts). ` +
          `Make it finish without the cloud. ${FUNCTION_FLAG_HINT}${tail()}`,
      );
    case "exit":
      throw new UserError(
        `The Pulumi program ${relativeMain} ended before it finished (exit code ${report.code ?? report.signal ?? "unknown"}): ` +
          `does it call process.exit? ${FUNCTION_FLAG_HINT}${tail()}`,
      );
  }
}
