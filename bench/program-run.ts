/**
 * What `serve --local` spends running the Pulumi program (the demo of Pulumi.yaml): `runProgram` as serve
 * calls it (a child process, the program talking to the local engine over gRPC), against the same program
 * in a child process under Pulumi's in-process mocks (`program-baseline.ts`), alternated in one run.
 */
import { fork } from "node:child_process";
import path from "node:path";
import { readProject } from "../cli/program/project";
import { runProgram } from "../cli/program/run-program";
import { load, ms, percentile, type Row } from "./stats";

const ROOT = path.join(__dirname, "..", "..");
const RUNS = 7;

function baselineRun(project: string, main: string): Promise<number> {
  const started = performance.now();
  const child = fork(path.join(__dirname, "program-baseline.js"), [project, main], {
    cwd: ROOT,
    stdio: "ignore",
  });
  return new Promise((resolve, reject) => {
    child.once("message", () => resolve(performance.now() - started));
    child.once("exit", (code) => reject(new Error(`the baseline program run exited with ${code}`)));
  });
}

export async function benchProgramRun(): Promise<Row[]> {
  const project = readProject(ROOT, "local");
  const engine: number[] = [];
  const mocks: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await runProgram({ project, gatewayUrl: "http://127.0.0.1:3000", cwd: ROOT });
    engine.push(performance.now() - started);
    mocks.push(await baselineRun(project.name, project.main));
  }
  const [e, m] = [percentile(engine, 50), percentile(mocks, 50)];
  return [
    {
      figure: `serve --local's run of the demo program against the local engine (gRPC), p50 of ${RUNS}`,
      value: `${ms(e)} ms`,
      baseline: `the same program under Pulumi's in-process mocks ${ms(m)} ms`,
      ratio: (e / m).toFixed(2),
      data: { engineMs: e, mocksMs: m },
      load: load(),
    },
  ];
}
