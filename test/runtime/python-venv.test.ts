/**
 * The interpreter a Python function runs with: the project's virtualenv (with a package installed into
 * it offline), `--python`, the version check against the function's runtime; and a handler importing a
 * module of its own package.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import test from "ava";
import type { GoodBuild } from "../../cli/runtime/builder";
import { pythonFunctionBuilder } from "../../cli/runtime/python/python-function";
import type { PythonBuilder } from "../../cli/runtime/python/python-builder";
import { WorkerPool } from "../../cli/runtime/worker-pool";
import { UserError } from "../../cli/user-error";
import { localEnvironment } from "../../core/local-environment";
import { buildTinyWheel, python, pythonSkip, run, versionOf, wheelSkip } from "../helpers/python";
import { tempProject, type TempProject } from "./temp-project";

const APP = `import sys

import tinypkg
from mypkg.util import double


def handler(event, context):
    return {"value": tinypkg.VALUE, "doubled": double(21), "executable": sys.executable}
`;

const skip = pythonSkip ?? wheelSkip;
if (skip) {
  test.skip(`Python virtualenvs (${skip})`, () => undefined);
} else {
  let project: TempProject;
  let pool: WorkerPool;
  const builders: PythonBuilder[] = [];

  test.before(async () => {
    project = await tempProject({
      "Pulumi.yaml": "name: venv-demo\nruntime: nodejs\n",
      "functions/orders/app.py": APP,
      "functions/orders/mypkg/__init__.py": "",
      "functions/orders/mypkg/util.py": "def double(n):\n    return n * 2\n",
    });
    // A virtualenv next to Pulumi.yaml, with a package installed from a local folder of wheels: offline.
    const wheels = await buildTinyWheel(project.root, "from the virtualenv");
    run(python!, ["-m", "venv", ".venv"], project.root);
    const venvPython = path.join(project.root, ".venv", "bin", "python");
    run(
      venvPython,
      ["-m", "pip", "install", "--no-index", "--find-links", wheels, "-q", "tinypkg"],
      project.root,
    );
    pool = new WorkerPool({ concurrency: 2 });
  });

  test.after.always(async () => {
    await pool?.close();
    await Promise.allSettled(builders.map((b) => b.dispose()));
    await project?.remove();
  });

  async function serve(options: { runtime?: string; interpreter?: string; statuses?: string[] }) {
    const builder = pythonFunctionBuilder({
      name: "orders",
      file: project.path("functions/orders/app.py"),
      exportName: "handler",
      runtime: options.runtime,
      interpreter: options.interpreter,
      outDir: project.path(`.pulumi-live/build/orders-${builders.length}`),
      watch: false,
      status: (message) => options.statuses?.push(message),
    });
    builders.push(builder);
    const build = (await builder.start()) as GoodBuild;
    return pool.invoke({
      functionName: "orders",
      envId: `env-${builders.length}`,
      build,
      exportName: "handler",
      event: {},
      context: {
        awsRequestId: `req-${builders.length}`,
        functionName: "orders-fn",
        functionVersion: "$LATEST",
        invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:orders-fn",
        memoryLimitInMB: "256",
        logGroupName: "/aws/lambda/orders-fn",
        logStreamName: "s",
      },
      deadline: Date.now() + 20_000,
      environment: localEnvironment({ PATH: process.env.PATH }, {}),
    });
  }

  test.serial(
    "the project's .venv runs the handler: its packages and the function's own modules import",
    async (t) => {
      const statuses: string[] = [];
      const version = versionOf(python!);
      const outcome = await serve({ runtime: `python${version}`, statuses });
      t.like(outcome, {
        ok: true,
        result: {
          value: "from the virtualenv",
          doubled: 42,
          executable: project.path(".venv/bin/python"),
        },
      });
      t.deepEqual(statuses, []);
    },
  );

  test.serial("a .venv in the handler's folder comes before the project's", async (t) => {
    run(python!, ["-m", "venv", "--without-pip", ".venv"], project.path("functions/orders"));
    try {
      const outcome = await serve({});
      // That virtualenv has no tinypkg: the import fails as Lambda reports it, proving which one ran.
      t.like(outcome, {
        ok: false,
        error: {
          errorType: "Runtime.ImportModuleError",
          errorMessage: "Unable to import module 'app': No module named 'tinypkg'",
        },
      });
    } finally {
      await rm(project.path("functions/orders/.venv"), { recursive: true, force: true });
    }
  });

  test.serial("--python beats the .venv; a version other than the runtime's is warned about", async (t) => {
    const statuses: string[] = [];
    const outcome = await serve({ runtime: "python3.9", interpreter: python, statuses });
    t.like(outcome, {
      ok: false,
      error: { errorType: "Runtime.ImportModuleError" },
    });
    t.deepEqual(statuses, [
      `orders runs on python3.9 in Lambda, but ${python} is Python ${versionOf(python!)}: code that works ` +
        "here may fail there. Create the project's .venv with Python 3.9 (python3.9 -m venv .venv) or pass --python PATH.",
    ]);
  });

  test.serial("an interpreter that cannot run is a UserError that says how to choose one", (t) => {
    const error = t.throws(() => pythonFunctionBuilderFor("/nonexistent/python3"), { instanceOf: UserError });
    t.regex(
      error.message,
      /^Cannot run the Python interpreter \/nonexistent\/python3 \(given with --python\): /,
    );
    t.regex(error.message, /or pass --python PATH\.$/);
  });

  function pythonFunctionBuilderFor(interpreter: string) {
    return pythonFunctionBuilder({
      name: "orders",
      file: project.path("functions/orders/app.py"),
      exportName: "handler",
      interpreter,
      outDir: project.path(".pulumi-live/build/unused"),
      watch: false,
      status: () => undefined,
    });
  }
}
