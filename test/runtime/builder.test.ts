import { existsSync } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import test from "ava";
import { watch } from "chokidar";
import { FunctionBuilder, type BuildResult, type FunctionBuilderOptions } from "../../cli/runtime/builder";
import { EventLog } from "../helpers/wait";
import { tempProject, type TempProject } from "./temp-project";

let project: TempProject;

test.before(async () => {
  project = await tempProject({
    "src/api.ts":
      'import { greet } from "./greet";\nexport const handler = async (name: string) => greet(name);\n',
    "src/greet.ts": "export function greet(name: string): string {\n  return `hello ${name}`;\n}\n",
    "src/esm.mts":
      'import dep from "dep";\nconst ready = await Promise.resolve("top-level await");\n' +
      "export const handler = async () => `${ready} ${dep()} ${typeof require}`;\n",
    "src/plain.cjs": 'exports.handler = async () => "cjs";\n',
    "module-pkg/package.json": '{ "type": "module" }\n',
    "module-pkg/index.ts": 'export const handler = async () => "esm by package.json";\n',
    "node_modules/dep/package.json": '{ "name": "dep", "main": "index.js" }\n',
    "node_modules/dep/index.js": 'module.exports = () => "from node_modules";\n',
  });
});
test.after.always(() => project.remove());

type Options = Partial<FunctionBuilderOptions> & { entry: string };

/** A started builder, disposed in teardown. */
async function started(t: { teardown(fn: () => Promise<void>): void }, options: Options) {
  const name = path.basename(options.entry).replace(/\W/g, "-");
  const builder = new FunctionBuilder({
    name,
    exportName: "handler",
    outDir: project.path(`.pulumi-live/build/${name}`),
    watch: false,
    cwd: project.root,
    ...options,
    entry: project.path(options.entry),
  });
  t.teardown(() => builder.dispose());
  return { builder, result: await builder.start() };
}

function good(t: { fail(m: string): void }, result: BuildResult | undefined) {
  if (!result?.ok) {
    t.fail(`expected a good build, got ${JSON.stringify(result)}`);
    throw new Error("unreachable");
  }
  return result;
}

/** Records builds; `until` waits for the first build from now on that matches. */
function buildLog() {
  const log = new EventLog<BuildResult>("build");
  return {
    builds: log.events,
    onBuild: (build: BuildResult) => log.push(build),
    /** An edit may be seen as more than one change: the first matching build wins. */
    until: (match: (b: BuildResult) => boolean) => log.next(match, { timeoutMs: 30_000 }),
  };
}

/**
 * Whether a build runs and returns `expected`. A build of a file caught half-written (an editor's
 * truncate-then-write) may export nothing: that is "no", not an exception that would lose the waiters.
 */
const runs = (expected: string) => (b: BuildResult) => {
  if (!b.ok) return false;
  const handler = (require(b.file) as { handler?: () => string }).handler;
  return typeof handler === "function" && handler() === expected;
};

test("a TypeScript handler importing another module builds to CommonJS and runs", async (t) => {
  const { result } = await started(t, { entry: "src/api.ts" });
  const build = good(t, result);
  t.is(build.version, 1);
  t.is(build.format, "cjs");
  t.is(build.file, project.path(".pulumi-live/build/api-ts/1/index.cjs"));
  t.deepEqual([...build.inputs].sort(), [project.path("src/api.ts"), project.path("src/greet.ts")]);
  const mod = require(build.file) as { handler: (name: string) => Promise<string> };
  t.is(await mod.handler("live"), "hello live");
});

test("an .mts handler with top-level await builds to ESM with require defined; packages stay external", async (t) => {
  const build = good(t, (await started(t, { entry: "src/esm.mts" })).result);
  t.is(build.format, "esm");
  t.is(path.basename(build.file), "index.mjs");
  t.deepEqual(build.inputs, [project.path("src/esm.mts")]);
  const mod = (await import(pathToFileURL(build.file).href)) as { handler: () => Promise<string> };
  t.is(await mod.handler(), "top-level await from node_modules function");
});

test("a .cjs handler builds to CommonJS; a .ts handler under type:module builds to ESM", async (t) => {
  const cjs = good(t, (await started(t, { entry: "src/plain.cjs" })).result);
  t.is(cjs.format, "cjs");
  t.is(await (require(cjs.file) as { handler: () => Promise<string> }).handler(), "cjs");
  const esm = good(t, (await started(t, { entry: "module-pkg/index.ts" })).result);
  t.is(esm.format, "esm");
  const mod = (await import(pathToFileURL(esm.file).href)) as { handler: () => Promise<string> };
  t.is(await mod.handler(), "esm by package.json");
});

test.serial(
  "an edit rebuilds through the watcher; a syntax error fails with file:line until fixed",
  async (t) => {
    await project.write({
      "watched/handler.ts": 'import { value } from "./value";\nexport const handler = () => value;\n',
      "watched/value.ts": 'export const value = "one";\n',
    });
    const log = buildLog();
    const { builder, result } = await started(t, {
      entry: "watched/handler.ts",
      watch: true,
      onBuild: log.onBuild,
    });
    t.is(good(t, result).version, 1);

    let next = log.until(runs("second"));
    await writeFile(project.path("watched/value.ts"), 'export const value = "second";\n');
    await next;
    // An edit may be seen more than once: later builds of the same text may follow.
    t.true(runs("second")(builder.current()!));

    next = log.until((b) => !b.ok && b.error.includes("Unterminated"));
    await writeFile(project.path("watched/value.ts"), 'export const value = "broken;\n');
    const broken = await next;
    t.like(builder.current(), { ok: false, error: broken.ok ? "" : broken.error });
    t.like(await builder.ready(), { ok: false, error: broken.ok ? "" : broken.error });
    t.is(
      broken.ok ? "" : broken.error,
      "✘ [ERROR] Unterminated string literal\n\n" +
        "    watched/value.ts:1:29:\n" +
        '      1 │ export const value = "broken;\n' +
        "        ╵                              ^",
    );

    next = log.until(runs("fixed again"));
    await writeFile(project.path("watched/value.ts"), 'export const value = "fixed again";\n');
    const fixed = await next;
    t.true(fixed.version > broken.version);
    t.true(runs("fixed again")(await builder.ready()));

    // A module imported from now on is watched too.
    await project.write({ "watched/extra.ts": 'export const extra = "extra";\n' });
    next = log.until(runs("fixed again + extra"));
    await writeFile(
      project.path("watched/handler.ts"),
      'import { value } from "./value";\nimport { extra } from "./extra";\n' +
        "export const handler = () => `${value} + ${extra}`;\n",
    );
    await next;
    t.deepEqual(
      builder.watchedFiles(),
      ["extra.ts", "handler.ts", "value.ts"].map((f) => project.path(`watched/${f}`)),
    );
    next = log.until(runs("fixed again + more"));
    await writeFile(project.path("watched/extra.ts"), 'export const extra = "more";\n');
    await next;
  },
);

test.serial("old versions are removed, the last 3 stay; dispose removes the outDir", async (t) => {
  const { builder } = await started(t, { entry: "src/api.ts" });
  for (let i = 0; i < 4; i++) await builder.rebuild();
  t.is(builder.current()?.version, 5);
  const versions = await readdir(project.path(".pulumi-live/build/api-ts"));
  t.deepEqual(versions.sort(), ["3", "4", "5"]);
  await builder.dispose();
  t.false(existsSync(project.path(".pulumi-live/build/api-ts")));
});

test.serial("while builds are broken, the last good version is never pruned", async (t) => {
  await project.write({ "pruned/last-good.ts": 'export const handler = () => "good";\n' });
  const { builder, result } = await started(t, { entry: "pruned/last-good.ts" });
  const first = good(t, result);
  await writeFile(project.path("pruned/last-good.ts"), 'export const handler = () => "broken;\n');
  for (let i = 0; i < 4; i++) t.false((await builder.rebuild()).ok);
  t.true(runs("good")(first));
  await writeFile(project.path("pruned/last-good.ts"), 'export const handler = () => "good again";\n');
  const fixed = good(t, await builder.rebuild());
  t.is(fixed.version, 6);
  t.true(runs("good again")(fixed));
  t.deepEqual(await readdir(project.path(".pulumi-live/build/last-good-ts")), ["6"]);
});

test.serial("two builders of one function in their own outDirs do not disturb each other", async (t) => {
  const entry = "src/greet.ts";
  const [outA, outB] = ["1111", "2222"].map((id) => project.path(`.pulumi-live/build/greet/${id}`));
  const a = await started(t, { entry, outDir: outA });
  const first = good(t, a.result);
  const b = await started(t, { entry, outDir: outB });
  const second = good(t, b.result);
  t.is(first.file, path.join(outA, "1", "index.cjs"));
  t.is(second.file, path.join(outB, "1", "index.cjs"));
  const greet = (file: string) => (require(file) as { greet: (name: string) => string }).greet("both");
  t.is(greet(first.file), "hello both");
  await b.builder.dispose();
  t.false(existsSync(outB));
  t.deepEqual(await readdir(outA), ["1"]);
  delete require.cache[first.file];
  t.is(greet(first.file), "hello both");
  good(t, await a.builder.rebuild());
  await a.builder.dispose();
  t.false(existsSync(outA));
});

test.serial("rebuild calls made during a build coalesce into one more build", async (t) => {
  const { builder } = await started(t, { entry: "src/greet.ts" });
  const [a, b, c] = await Promise.all([builder.rebuild(), builder.rebuild(), builder.rebuild()]);
  t.is(a.version, 2);
  t.is(b.version, 3);
  t.is(c, b);
});

test.serial("dispose stops watching", async (t) => {
  await project.write({ "disposed/handler.ts": "export const handler = () => 1;\n" });
  const log = buildLog();
  const { builder } = await started(t, { entry: "disposed/handler.ts", watch: true, onBuild: log.onBuild });
  t.deepEqual(builder.watchedFiles(), [project.path("disposed/handler.ts")]);
  await builder.dispose();
  t.deepEqual(builder.watchedFiles(), []);
  // A second watcher on the same file tells when the edit has been seen.
  const witness = watch(project.path("disposed/handler.ts"), { ignoreInitial: true });
  t.teardown(() => witness.close());
  await new Promise<void>((resolve) => witness.once("ready", () => resolve()));
  const seen = new Promise((resolve) => witness.once("change", resolve));
  await writeFile(project.path("disposed/handler.ts"), "export const handler = () => 22;\n");
  await seen;
  t.is(log.builds.length, 1);
});
