import { writeFile } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import test from "ava";
import { FunctionBuilder, type BuildResult, type GoodBuild } from "../../cli/runtime/builder";
import { readVersionManifest } from "../../cli/runtime/module-versions";
import { tempProject, type TempProject } from "./temp-project";

let project: TempProject;

test.before(async () => {
  project = await tempProject({
    "tsconfig.json": '{ "compilerOptions": { "baseUrl": ".", "paths": { "@lib/*": ["lib/*"] } } }\n',
    "lib/label.ts": 'export const label = "lib";\n',
    "node_modules/dep/package.json": '{ "name": "dep", "main": "index.js" }\n',
    "node_modules/dep/index.js": 'module.exports = () => "dep";\n',
  });
});
test.after.always(() => project.remove());

/** A started builder of `<folder>/handler.ts` (not watching: the test calls rebuild), disposed in teardown. */
async function started(t: { teardown(fn: () => Promise<void>): void }, folder: string) {
  const builder = new FunctionBuilder({
    name: folder,
    entry: project.path(`${folder}/handler.ts`),
    exportName: "handler",
    outDir: project.path(`.pulumi-live/build/${folder}`),
    watch: false,
    cwd: project.root,
  });
  t.teardown(() => builder.dispose());
  return { builder, first: good(await builder.start()) };
}

function good(result: BuildResult): GoodBuild {
  if (!result.ok) throw new Error(`expected a good build, got ${result.error}`);
  return result;
}

/** A fresh load of a version (as a new worker would load it), and its handler's answer. */
function run(build: GoodBuild): unknown {
  delete require.cache[build.file];
  return (require(build.file) as { handler: () => unknown }).handler();
}

test("an edit compiles only the edited module; earlier versions keep their code", async (t) => {
  await project.write({
    "one/handler.ts":
      'import { a } from "./a";\nimport { b } from "./b";\nexport const handler = () => `${a} ${b}`;\n',
    "one/a.ts": 'export const a = "a1";\n',
    "one/b.ts": 'export const b = "b1";\n',
  });
  const { builder, first } = await started(t, "one");
  t.deepEqual(
    first.compiled?.sort(),
    ["a.ts", "b.ts", "handler.ts"].map((f) => project.path(`one/${f}`)),
  );
  t.is(run(first), "a1 b1");

  await writeFile(project.path("one/a.ts"), 'export const a = "a2";\n');
  const second = good(await builder.rebuild());
  t.deepEqual(second.compiled, [project.path("one/a.ts")]);
  t.deepEqual([...second.inputs].sort(), [...first.inputs].sort());
  t.is(run(second), "a2 b1");
  // Version 1 is immutable: loaded afresh after the edit, it still runs what it ran.
  t.is(run(first), "a1 b1");

  const unchanged = good(await builder.rebuild());
  t.deepEqual(unchanged.compiled, []);
  t.is(run(unchanged), "a2 b1");
});

test("an import added refreshes the graph: the new module is compiled and watched", async (t) => {
  await project.write({
    "added/handler.ts": 'import { a } from "./a";\nexport const handler = () => a;\n',
    "added/a.ts": 'export const a = "a";\n',
    "added/c.ts": 'export const c = "c";\n',
  });
  const { builder, first } = await started(t, "added");
  t.deepEqual([...first.inputs].sort(), [project.path("added/a.ts"), project.path("added/handler.ts")]);
  await writeFile(
    project.path("added/handler.ts"),
    'import { a } from "./a";\nimport { c } from "./c";\nexport const handler = () => a + c;\n',
  );
  const second = good(await builder.rebuild());
  t.deepEqual(second.compiled?.sort(), [project.path("added/c.ts"), project.path("added/handler.ts")]);
  t.deepEqual(
    [...second.inputs].sort(),
    ["a.ts", "c.ts", "handler.ts"].map((f) => project.path(`added/${f}`)),
  );
  t.is(run(second), "ac");
  // An import of a file that does not exist is the bundle build's error, not a failure at run time.
  await writeFile(
    project.path("added/handler.ts"),
    'import { gone } from "./gone";\nexport const handler = () => gone;\n',
  );
  const broken = await builder.rebuild();
  t.false(broken.ok);
  t.regex(broken.ok ? "" : broken.error, /Could not resolve "\.\/gone"/);
});

test("tsconfig paths, a .js specifier of a .ts file and a package resolve as the bundle resolved them", async (t) => {
  await project.write({
    "resolved/handler.ts":
      'import { label } from "@lib/label";\nimport { x } from "./x.js";\nimport dep from "dep";\n' +
      "export const handler = () => `${label} ${x} ${dep()}`;\n",
    "resolved/x.ts": 'export const x = "x1";\n',
  });
  const { builder, first } = await started(t, "resolved");
  t.is(run(first), "lib x1 dep");
  t.deepEqual(readVersionManifest(first.file)?.modules[project.path("resolved/handler.ts")].imports, {
    "@lib/label": { source: project.path("lib/label.ts") },
    "./x.js": { source: project.path("resolved/x.ts") },
    dep: { package: "dep" },
  });
  await writeFile(project.path("resolved/x.ts"), 'export const x = "x2";\n');
  await writeFile(project.path("lib/label.ts"), 'export const label = "lib2";\n');
  const second = good(await builder.rebuild());
  t.deepEqual(second.compiled?.sort(), [project.path("lib/label.ts"), project.path("resolved/x.ts")]);
  t.is(run(second), "lib2 x2 dep");
});

test("a syntax error in a module compiled alone names file:line:column; the fix builds again", async (t) => {
  await project.write({
    "broken/handler.ts": 'import { v } from "./v";\nexport const handler = () => v;\n',
    "broken/v.ts": 'export const v = "one";\n',
  });
  const { builder } = await started(t, "broken");
  await writeFile(project.path("broken/v.ts"), '\nexport const v = "two;\n');
  const broken = await builder.rebuild();
  t.is(
    broken.ok ? "" : broken.error,
    "✘ [ERROR] Unterminated string literal\n\n" +
      "    broken/v.ts:2:22:\n" +
      '      2 │ export const v = "two;\n' +
      "        ╵                       ^",
  );
  await writeFile(project.path("broken/v.ts"), 'export const v = "three";\n');
  const fixed = good(await builder.rebuild());
  t.deepEqual(fixed.compiled, [project.path("broken/v.ts")]);
  t.is(run(fixed), "three");
});

test("after an edit, a worker's stack trace names the .ts file, line and column", async (t) => {
  await project.write({
    "traced/handler.ts": 'import { fail } from "./fail";\nexport const handler = () => fail();\n',
    "traced/fail.ts": "export function fail(): never {\n  throw new Error('first');\n}\n",
  });
  const { builder } = await started(t, "traced");
  await writeFile(
    project.path("traced/fail.ts"),
    "interface Unused {\n  n: number;\n}\n\nexport function fail(): never {\n  throw new Error('second');\n}\n",
  );
  const edited = good(await builder.rebuild());
  t.deepEqual(edited.compiled, [project.path("traced/fail.ts")]);
  // As the pool's workers run: a thread of its own, with source maps on.
  const worker = new Worker(
    `const { parentPort, workerData } = require("node:worker_threads");
     try { require(workerData).handler(); } catch (error) { parentPort.postMessage(error.stack); }`,
    { eval: true, workerData: edited.file, execArgv: ["--enable-source-maps"] },
  );
  t.teardown(() => worker.terminate().then(() => undefined));
  const stack = await new Promise<string>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  const frames = stack.split("\n");
  t.is(frames[0], "Error: second");
  t.true(frames[1].includes(`${project.path("traced/fail.ts")}:6:9`), stack);
  t.true(frames[2].includes(`${project.path("traced/handler.ts")}:2:`), stack);
});

test("a handler importing a module with import() stays bundled, and runs", async (t) => {
  await project.write({
    "lazy/handler.ts": 'export const handler = async () => (await import("./later")).later;\n',
    "lazy/later.ts": 'export const later = "later";\n',
  });
  const { builder, first } = await started(t, "lazy");
  // A bundle: no module was compiled alone, and the file holds no module graph.
  t.is(first.compiled, undefined);
  t.is(readVersionManifest(first.file), undefined);
  t.is(await run(first), "later");
  await writeFile(project.path("lazy/later.ts"), 'export const later = "later still";\n');
  const second = good(await builder.rebuild());
  t.is(second.compiled, undefined);
  t.is(await run(second), "later still");
});
