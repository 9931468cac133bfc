/**
 * Edits of a Python function's code: the next invocation runs the new code, never the old once the
 * change is seen, while one under way finishes on what it imported.
 */
import { utimes, writeFile } from "node:fs/promises";
import test from "ava";
import type { BuildResult } from "../../cli/runtime/builder";
import { PythonBuilder, type PythonBuild } from "../../cli/runtime/python/python-builder";
import { WorkerPool, type InvokeRequest, type LogEvent } from "../../cli/runtime/worker-pool";
import { localEnvironment } from "../../core/local-environment";
import { python, pythonSkip } from "../helpers/python";
import { tempProject, type TempProject } from "./temp-project";

/** Same length whatever the version's digit, so an edit keeps the file's size. */
const app = (version: number) =>
  `import os\nimport time\nfrom helper import helped\n\nVERSION = "v${version}"\n\n\n` +
  `def handler(event, context):\n    if "release" in event:\n        print("started", flush=True)\n` +
  `        deadline = time.time() + 20\n` +
  `        while not os.path.exists(event["release"]) and time.time() < deadline:\n` +
  `            time.sleep(0.01)\n` +
  `    return {"version": VERSION, "helped": helped()}\n`;

/** A fixed modification time: every version of app.py has the same size and the same whole second. */
const MTIME = new Date("2026-01-01T00:00:00.000Z");

if (pythonSkip) {
  test.skip(`Python edits (${pythonSkip})`, () => undefined);
} else {
  let project: TempProject;
  let builder: PythonBuilder;
  let pool: WorkerPool;
  let onBuild: ((result: PythonBuild) => void) | undefined;
  let onLog: ((e: LogEvent) => void) | undefined;

  /** Resolves with the first build `action`'s change of `file` made (not a late one of an earlier edit). */
  async function changed(file: string, action: () => Promise<void>): Promise<BuildResult> {
    const next = new Promise<BuildResult>(
      (resolve) => (onBuild = (r) => r.ok && r.trigger === file && resolve(r)),
    );
    await action();
    return next;
  }

  let counter = 0;
  async function invoke(envId: string, event: unknown = {}) {
    const build = await builder.ready();
    if (!build.ok) throw new Error(build.error);
    const req: InvokeRequest = {
      functionName: "py",
      envId,
      build,
      exportName: "handler",
      event,
      context: {
        awsRequestId: `req-${++counter}`,
        functionName: "py-fn",
        functionVersion: "$LATEST",
        invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:py-fn",
        memoryLimitInMB: "256",
        logGroupName: "/aws/lambda/py-fn",
        logStreamName: "s",
      },
      deadline: Date.now() + 25_000,
      environment: localEnvironment({ PATH: process.env.PATH }, {}),
    };
    return pool.invoke(req);
  }

  test.before(async () => {
    project = await tempProject({
      "src/app.py": app(1),
      "src/helper.py": 'def helped():\n    return "h1"\n',
      "src/tests/test_app.py": "def test_nothing():\n    pass\n",
      "src/.venv/lib/site.py": "X = 1\n",
      "src/data.json": "{}\n",
    });
    await utimes(project.path("src/app.py"), MTIME, MTIME);
    builder = new PythonBuilder({
      name: "py",
      entry: project.path("src/app.py"),
      exportName: "handler",
      outDir: project.path(".pulumi-live/build/py"),
      watch: true,
      launch: { interpreter: python!, runtime: "python3.12" },
      onBuild: (result) => onBuild?.(result as PythonBuild),
    });
    await builder.start();
    pool = new WorkerPool({ concurrency: 4, onLog: (e) => onLog?.(e) });
  });

  test.after.always(async () => {
    await pool?.close();
    await builder?.dispose();
    await project?.remove();
  });

  test.serial(
    "the .py files of the handler's folder are watched; caches, virtualenvs and tests are not",
    (t) => {
      t.deepEqual(builder.watchedFiles(), [project.path("src/app.py"), project.path("src/helper.py")]);
    },
  );

  test.serial("an edit of the same size within the same second runs on the next invocation", async (t) => {
    t.like(await invoke("env-1"), { ok: true, result: { version: "v1", helped: "h1" } });
    const build = await changed(project.path("src/app.py"), async () => {
      await writeFile(project.path("src/app.py"), app(2));
      // Python trusts a cached .pyc whose source has the same size and whole-second mtime.
      await utimes(project.path("src/app.py"), MTIME, MTIME);
    });
    t.true(build.version > 1);
    t.like(await invoke("env-1"), { ok: true, coldStart: true, result: { version: "v2" } });
  });

  test.serial(
    "an edit of an imported module of the function's own runs on the next invocation",
    async (t) => {
      await changed(project.path("src/helper.py"), () =>
        writeFile(project.path("src/helper.py"), 'def helped():\n    return "h2"\n'),
      );
      t.like(await invoke("env-1"), { ok: true, result: { version: "v2", helped: "h2" } });
    },
  );

  test.serial("an invocation under way finishes on its code; the next one runs the edit", async (t) => {
    const release = project.path("release");
    const started = new Promise<void>((resolve) => (onLog = (e) => e.line === "started" && resolve()));
    const held = invoke("env-2", { release });
    await started;
    await changed(project.path("src/app.py"), () => writeFile(project.path("src/app.py"), app(3)));
    t.like(await invoke("env-2"), { ok: true, result: { version: "v3" } });
    await writeFile(release, "");
    t.like(await held, { ok: true, result: { version: "v2" } });
  });
}
