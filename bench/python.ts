import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { FunctionBuilder, type BuildResult, type GoodBuild } from "../cli/runtime/builder";
import { PythonBuilder } from "../cli/runtime/python/python-builder";
import { WorkerPool, type InvokeOutcome } from "../cli/runtime/worker-pool";
import { localEnvironment } from "../core/local-environment";
import { ms, percentile, type Row } from "./stats";

const PAYLOAD = { data: "x".repeat(1000) };

const python = (edit: number) =>
  `import json\n\n\ndef handler(event, context):\n    return {"edit": ${edit}, "bytes": len(json.dumps(event))}\n`;
const node = (edit: number) =>
  `export const handler = async (event: unknown) => ({ edit: ${edit}, bytes: JSON.stringify(event).length });\n`;

/** The machine's python3 by its real path (not a launcher such as pyenv's shim, which adds its own time). */
function pythonExecutable(): string | undefined {
  const run = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" });
  return run.status === 0 ? run.stdout.trim() : undefined;
}

interface Subject {
  name: string;
  builder: FunctionBuilder | PythonBuilder;
  write(edit: number): Promise<void>;
  onBuild?: (result: BuildResult) => void;
}

let requests = 0;
function invoke(pool: WorkerPool, build: GoodBuild, envId: string): Promise<InvokeOutcome> {
  const id = `bench-${++requests}`;
  return pool.invoke({
    functionName: "bench",
    envId,
    build,
    exportName: "handler",
    event: PAYLOAD,
    context: {
      awsRequestId: id,
      functionName: "bench",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:bench",
      memoryLimitInMB: "512",
      logGroupName: "/aws/lambda/bench",
      logStreamName: "s",
    },
    deadline: Date.now() + 30_000,
    environment: localEnvironment({ PATH: process.env.PATH }, {}),
  });
}

async function ready(subject: Subject): Promise<GoodBuild> {
  const build = await subject.builder.ready();
  if (!build.ok) throw new Error(build.error);
  return build;
}

/** Cold start: a fresh environment's first invocation (start, import, run), each in a pool of its own. */
async function coldStarts(subject: Subject, rounds: number): Promise<number[]> {
  const times: number[] = [];
  const build = await ready(subject);
  for (let i = 0; i < rounds; i++) {
    const pool = new WorkerPool({ concurrency: 1 });
    const t0 = performance.now();
    const outcome = await invoke(pool, build, `cold-${i}`);
    times.push(performance.now() - t0);
    await pool.close();
    if (!outcome.ok || !outcome.coldStart) throw new Error(`${subject.name}: not a cold start`);
  }
  return times;
}

/** Warm round trips of one environment through the pool. */
async function warmTrips(subject: Subject, rounds: number): Promise<number[]> {
  const pool = new WorkerPool({ concurrency: 1 });
  const build = await ready(subject);
  try {
    await invoke(pool, build, "warm");
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      await invoke(pool, build, "warm");
      times.push(performance.now() - t0);
    }
    return times;
  } finally {
    await pool.close();
  }
}

/** Save → served: a file written, until the next invocation answers with the edit. */
async function saveToServed(subject: Subject, rounds: number): Promise<number[]> {
  const pool = new WorkerPool({ concurrency: 2 });
  const times: number[] = [];
  try {
    await invoke(pool, await ready(subject), "edit");
    for (let edit = 1; edit <= rounds; edit++) {
      const built = new Promise<void>((resolve) => (subject.onBuild = (r) => r.ok && resolve()));
      const t0 = performance.now();
      await subject.write(edit);
      await built;
      // A build may have seen the file mid-write: the edit is served once an invocation says so.
      for (;;) {
        const outcome = await invoke(pool, await ready(subject), "edit");
        if (outcome.ok && (outcome.result as { edit: number }).edit === edit) break;
        if (performance.now() - t0 > 10_000) {
          throw new Error(`${subject.name}: edit ${edit} never served: ${JSON.stringify(outcome)}`);
        }
      }
      times.push(performance.now() - t0);
    }
    return times;
  } finally {
    subject.onBuild = undefined;
    await pool.close();
  }
}

/**
 * Python handlers against Node.js handlers in the same process: cold start, warm round trip through the
 * worker pool (1 KB in), and save → next invocation served (chokidar, new version, new process).
 */
export async function benchPython(): Promise<Row[]> {
  const interpreter = pythonExecutable();
  if (!interpreter) return [{ figure: "Python handlers", value: "skipped: no python3 on PATH" }];
  const dir = await mkdtemp(path.join(tmpdir(), "pulumi-live-bench-python-"));
  const subjects: Subject[] = [];
  try {
    await mkdir(path.join(dir, "py"));
    await mkdir(path.join(dir, "node"));
    await writeFile(path.join(dir, "py/app.py"), python(0));
    await writeFile(path.join(dir, "node/app.ts"), node(0));
    const py: Subject = {
      name: "python",
      builder: undefined as never,
      write: (edit) => writeFile(path.join(dir, "py/app.py"), python(edit)),
    };
    py.builder = new PythonBuilder({
      name: "py",
      entry: path.join(dir, "py/app.py"),
      exportName: "handler",
      outDir: path.join(dir, ".pulumi-live/build/py"),
      watch: true,
      launch: { interpreter, runtime: "python3.12" },
      onBuild: (r) => py.onBuild?.(r),
    });
    const js: Subject = {
      name: "node",
      builder: undefined as never,
      write: (edit) => writeFile(path.join(dir, "node/app.ts"), node(edit)),
    };
    js.builder = new FunctionBuilder({
      name: "node",
      entry: path.join(dir, "node/app.ts"),
      exportName: "handler",
      outDir: path.join(dir, ".pulumi-live/build/node"),
      watch: true,
      cwd: dir,
      onBuild: (r) => js.onBuild?.(r),
    });
    subjects.push(py, js);
    await Promise.all(subjects.map((s) => s.builder.start()));

    const [pyCold, jsCold] = [await coldStarts(py, 15), await coldStarts(js, 15)];
    const [pyWarm, jsWarm] = [await warmTrips(py, 300), await warmTrips(js, 300)];
    const [pySave, jsSave] = [await saveToServed(py, 15), await saveToServed(js, 15)];
    const p50 = (values: number[]) => percentile(values, 50);
    const version = spawnSync(interpreter, ["--version"], { encoding: "utf8" }).stdout.trim();
    return [
      {
        figure: `Python cold start: new process, import, first invocation (${version}, p50 / p95)`,
        value: `${ms(p50(pyCold))} / ${ms(percentile(pyCold, 95))} ms`,
        baseline: `Node.js worker thread ${ms(p50(jsCold))} ms`,
        ratio: (p50(pyCold) / p50(jsCold)).toFixed(2),
      },
      {
        figure: "Python warm round trip through the pool, 1 KB in (p50 / p99)",
        value: `${ms(p50(pyWarm))} / ${ms(percentile(pyWarm, 99))} ms`,
        baseline: `Node.js worker thread ${ms(p50(jsWarm))} ms`,
        ratio: (p50(pyWarm) / p50(jsWarm)).toFixed(2),
      },
      {
        figure: "Python save → next invocation served (p50 / p95)",
        value: `${ms(p50(pySave))} / ${ms(percentile(pySave, 95))} ms`,
        baseline: `Node.js (esbuild rebuild) ${ms(p50(jsSave))} ms`,
        ratio: (p50(pySave) / p50(jsSave)).toFixed(2),
      },
    ];
  } finally {
    await Promise.allSettled(subjects.map((s) => s.builder.dispose()));
    await rm(dir, { recursive: true, force: true });
  }
}
