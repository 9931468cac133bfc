/**
 * `LiveFunction` with a Python runtime, under Pulumi mocks: the deployed package (the handler's folder
 * without caches, virtualenvs and tests, plus requirements installed offline from a local wheel), the
 * handler and runtime Lambda gets, the Node.js stub while live with nothing renamed, and the problems.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import * as pulumi from "@pulumi/pulumi";
import { LiveFunction, LiveFunctionError } from "../../sdk";
import { lambdaPlatform } from "../../sdk/python-package";
import { closeMocks, startMocks, type MockRun } from "../fixtures/pulumi-mocks";
import { buildTinyWheel, pythonSkip, wheelSkip } from "../helpers/python";
import { archiveTexts, ensureStubBundle } from "./stub-bundle";

const FILES: Record<string, string> = {
  "Pulumi.yaml": "name: demo\nruntime: nodejs\n",
  "src/app.py":
    "import tinypkg\nfrom lib.util import shout\n\n\ndef handler(event, context):\n    return shout(tinypkg.VALUE)\n",
  "src/lib/__init__.py": "",
  "src/lib/util.py": "def shout(text):\n    return text.upper()\n",
  "src/templates/page.html": "<p>hi</p>\n",
  "src/requirements.txt": "tinypkg==1.0\n",
  "src/__pycache__/app.cpython-312.pyc": "compiled",
  "src/lib/__pycache__/util.cpython-312.pyc": "compiled",
  "src/stale.pyc": "compiled",
  "src/tests/test_app.py": "def test_app():\n    pass\n",
  "src/.pytest_cache/README.md": "cache\n",
  "src/env/pyvenv.cfg": "home = /usr/bin\n",
  "src/env/lib/site.py": "X = 1\n",
  "src/mypkg.egg-info/PKG-INFO": "Name: mypkg\n",
};

/** Each file of a wire-form archive: its text, read from disk for file assets. */
function archiveFiles(code: any): Record<string, string> {
  return Object.fromEntries(
    Object.entries(code.assets).map(([name, asset]: [string, any]) => [
      name,
      asset.text ?? readFileSync(asset.path, "utf8"),
    ]),
  );
}

const skip = pythonSkip ?? wheelSkip;
if (skip) {
  test.skip(`LiveFunction with a Python runtime (${skip})`, () => undefined);
} else {
  let root: string;
  let wheels: string;
  const stub = ensureStubBundle().toString("utf8");

  test.before(async () => {
    root = await realpath(await mkdtemp(path.join(tmpdir(), "pulumi-live-python-sdk-")));
    for (const [name, text] of Object.entries(FILES)) {
      await mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await writeFile(path.join(root, name), text);
    }
    wheels = await buildTinyWheel(path.join(root, "build"), "from a wheel");
    // Handlers resolve against the folder of Pulumi.yaml: the program runs in it.
    process.chdir(root);
  });
  test.after.always(closeMocks);
  test.after.always(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function run(stack: string, config: Record<string, string>, program: () => void): Promise<MockRun> {
    const mocks = await startMocks({ project: "demo", stack, config });
    program();
    await mocks.settle();
    return mocks;
  }

  const args = () => ({
    runtime: "python3.12",
    handler: "src/app.handler",
    timeout: 10,
    python: { pipArgs: ["--no-index", "--find-links", wheels] },
  });

  test.serial(
    "not live: the handler's folder and its requirements, Lambda's handler and runtime",
    async (t) => {
      const m = await run("off", {}, () => new LiveFunction("api", args()));
      const fn = m.byName("api-fn");
      t.is(fn.inputs.runtime, "python3.12");
      t.is(fn.inputs.handler, "app.handler");
      const files = archiveFiles(fn.rawInputs.code);
      const names = Object.keys(files);
      t.deepEqual(
        names.filter((name) => !name.startsWith("tinypkg")),
        ["app.py", "lib/__init__.py", "lib/util.py", "requirements.txt", "templates/page.html"],
      );
      t.is(files["app.py"], FILES["src/app.py"]);
      // The requirement, installed for Lambda's platform from the local wheel (offline).
      t.is(files["tinypkg/__init__.py"], 'VALUE = "from a wheel"\n');
      t.true(names.includes("tinypkg-1.0.dist-info/METADATA"), names.join(", "));
      t.deepEqual(m.outputsOf("api"), {
        functionName: fn.state.name,
        functionArn: fn.state.arn,
        functionId: "api",
        handler: "src/app.handler",
        runtime: "python3.12",
        live: false,
        roleArn: m.byName("api-role").state.arn,
        streaming: false,
      });
      // Installed once: the next deployment of the same requirements takes them from the cache.
      const cache = path.join(root, ".pulumi-live", "python");
      t.is(readdirSync(cache).length, 1);
      const again = await run("off-again", {}, () => new LiveFunction("api", args()));
      t.deepEqual(archiveFiles(again.byName("api-fn").rawInputs.code), files);
      t.is(readdirSync(cache).length, 1);
    },
  );

  test.serial(
    "live: the Node.js stub with the function's runtime kept in the outputs; nothing renamed",
    async (t) => {
      const off = await run("toggle", {}, () => new LiveFunction("api", args()));
      const live = await run("toggle", { live: "true" }, () => new LiveFunction("api", args()));
      const fn = live.byName("api-fn");
      t.deepEqual(archiveTexts(fn.rawInputs.code), { "index.js": stub });
      t.is(fn.inputs.handler, "index.handler");
      t.is(fn.inputs.runtime, "nodejs22.x");
      t.is(fn.inputs.timeout, 10);
      t.like(live.outputsOf("api"), { handler: "src/app.handler", runtime: "python3.12", live: true });
      const urns = (m: MockRun) =>
        m.registrations
          .filter((r) => r.name.startsWith("api"))
          .map((r) => r.urn)
          .sort();
      t.deepEqual(urns(live), urns(off));
      t.is(off.byName("api-fn").inputs.runtime, "python3.12");
    },
  );

  test.serial(
    "problems: no .py file, fallback and bundle options, a requirement pip cannot install",
    async (t) => {
      await startMocks({ project: "demo", stack: "problems" });
      pulumi.runtime.setAllConfig({ "demo:live": "true" });
      const missing = t.throws(
        () =>
          new LiveFunction("api", {
            runtime: "python3.12",
            handler: "src/missing.handler",
            fallback: true,
            bundle: { minify: false },
          }),
        { instanceOf: LiveFunctionError },
      );
      t.deepEqual(
        missing.problems.map((p) => `${p.option}: ${p.message}`),
        [
          "bundle: applies to Node.js handlers only.",
          "fallback: runs the real bundle inside the Node.js relay stub, which cannot run a Python handler.",
          `handler: no file src/missing.py under ${root}.`,
        ],
      );

      const node = t.throws(() => new LiveFunction("node", { handler: "src/app.handler", python: {} }), {
        instanceOf: LiveFunctionError,
      });
      t.deepEqual(node.problems[0], {
        option: "python",
        message: "applies to Python runtimes only.",
        fix: 'Leave it out, or set runtime: "python3.12".',
      });

      pulumi.runtime.setAllConfig({});
      await writeFile(path.join(root, "src/requirements.txt"), "not-a-package-anywhere==9.9\n");
      try {
        const pip = t.throws(() => new LiveFunction("api", args()), { instanceOf: LiveFunctionError });
        t.is(pip.problems.length, 1);
        t.regex(pip.problems[0].message, /^pip could not install src\/requirements\.txt for Lambda:/);
        t.regex(pip.problems[0].message, /not-a-package-anywhere/);
        t.regex(pip.problems[0].fix, new RegExp(`binary wheels for ${lambdaPlatform("3.12", "x86_64")}`));
      } finally {
        await writeFile(path.join(root, "src/requirements.txt"), FILES["src/requirements.txt"]);
      }
    },
  );
}
