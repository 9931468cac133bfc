/**
 * A live build resolves packages as the deployed bundle does: from the importer's folder. Workspace
 * packages linked only in the handler's own node_modules (npm and pnpm layouts) must load live, and give
 * the same answers as the deployed bundle of the same source.
 */
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import test from "ava";
import { FunctionBuilder, type GoodBuild } from "../../cli/runtime/builder";
import { WorkerPool } from "../../cli/runtime/worker-pool";
import { localEnvironment } from "../../core/local-environment";
import { bundleHandler } from "../../sdk/bundle";
import { Problems } from "../../sdk/errors";
import { resolveHandler } from "../../sdk/handler-source";
import { tempProject, type TempProject } from "./temp-project";

const FILES: Record<string, string> = {
  "Pulumi.yaml": "name: mono\nruntime: nodejs\n",
  // A TypeScript workspace package: source only, linked (npm style) into the handler's node_modules.
  "libs/greet/package.json": JSON.stringify({ name: "@acme/greet", main: "src/index.ts" }),
  "libs/greet/src/index.ts": "export const greet = (name: string): string => `hello ${name}`;\n",
  // An installed package in pnpm's layout: its dependency sits next to it, not in the project's root.
  "node_modules/.pnpm/pad@1.0.0/node_modules/pad/package.json": JSON.stringify({
    name: "pad",
    exports: {
      // A bundler-only condition: esbuild picks it when it bundles, Node ignores it.
      module: "./bundler-only.js",
      import: "./index.mjs",
      require: "./index.cjs",
    },
  }),
  "node_modules/.pnpm/pad@1.0.0/node_modules/pad/bundler-only.js":
    "import fill from 'fill';\nexport const pad = (s) => fill(3) + s;\nexport const system = 'bundler';\n",
  "node_modules/.pnpm/pad@1.0.0/node_modules/pad/index.cjs":
    "const fill = require('fill');\nexports.pad = (s) => fill(3) + s;\nexports.system = 'cjs';\n",
  "node_modules/.pnpm/pad@1.0.0/node_modules/pad/index.mjs":
    "import { createRequire } from 'node:module';\nconst fill = createRequire(import.meta.url)('fill');\n" +
    "export const pad = (s) => fill(3) + s;\nexport const system = 'esm';\n",
  "node_modules/.pnpm/pad@1.0.0/node_modules/fill/index.js": "module.exports = (n) => '.'.repeat(n);\n",
  "services/api/src/handler.ts":
    "import { greet } from '@acme/greet';\nimport { pad, system } from 'pad';\n" +
    "export const handler = async () => ({ greeting: pad(greet('Ada')), system });\n",
  "services/api/src/esm.mts":
    "import { greet } from '@acme/greet';\nimport { pad, system } from 'pad';\n" +
    "export const handler = async () => ({ greeting: pad(greet('Ada')), system });\n",
};

let project: TempProject;
const builders: FunctionBuilder[] = [];
let pool: WorkerPool;

test.before(async () => {
  project = await tempProject(FILES);
  const modules = project.path("services/api/node_modules");
  await mkdir(path.join(modules, "@acme"), { recursive: true });
  await symlink(project.path("libs/greet"), path.join(modules, "@acme/greet"), "dir");
  await symlink(
    project.path("node_modules/.pnpm/pad@1.0.0/node_modules/pad"),
    path.join(modules, "pad"),
    "dir",
  );
  pool = new WorkerPool({ concurrency: 2 });
});
test.after.always(async () => {
  await pool.close();
  await Promise.allSettled(builders.map((b) => b.dispose()));
  await project.remove();
});

async function live(entry: string): Promise<{ build: GoodBuild; result: unknown }> {
  const builder = new FunctionBuilder({
    name: entry,
    entry: project.path(entry),
    exportName: "handler",
    outDir: project.path(`.pulumi-live/build/${entry.replace(/\W/g, "-")}`),
    watch: false,
    cwd: project.root,
  });
  builders.push(builder);
  const build = await builder.start();
  if (!build.ok) throw new Error(build.error);
  const outcome = await pool.invoke({
    functionName: entry,
    envId: entry,
    build,
    exportName: "handler",
    event: {},
    context: {
      awsRequestId: `r-${entry}`,
      functionName: "api",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:api",
      memoryLimitInMB: "128",
      logGroupName: "/aws/lambda/api",
      logStreamName: "s",
    },
    deadline: Date.now() + 10_000,
    environment: localEnvironment({ PATH: process.env.PATH }, {}),
  });
  if (!outcome.ok) throw new Error(JSON.stringify(outcome.error));
  return { build, result: outcome.result };
}

/** Runs the deployed bundle of the same handler (sdk/bundle.ts) in this process. */
async function deployed(handler: string): Promise<unknown> {
  const problems = new Problems();
  const source = resolveHandler(handler, project.root, problems);
  const bundle = source && bundleHandler(source, { minify: false }, project.root, "node20", problems);
  if (!bundle) throw new Error(JSON.stringify(problems.list));
  const dir = project.path(`deployed/${handler.replace(/\W/g, "-")}`);
  await mkdir(dir, { recursive: true });
  for (const [name, contents] of Object.entries(bundle.files))
    await writeFile(path.join(dir, name), contents);
  const file = path.join(dir, bundle.entry);
  const module = (bundle.entry.endsWith(".mjs") ? await import(file) : require(file)) as {
    handler: () => Promise<unknown>;
  };
  return module.handler();
}

test("CommonJS: a workspace package and a pnpm-linked package resolve from the handler's folder", async (t) => {
  const { build, result } = await live("services/api/src/handler.ts");
  t.deepEqual(result, { greeting: "...hello Ada", system: "cjs" });
  // The workspace package's source is part of the build, so editing it rebuilds.
  t.true(build.inputs.includes(project.path("libs/greet/src/index.ts")), build.inputs.join("\n"));
  t.false(build.inputs.some((input) => input.includes("node_modules")));
  // The deployed bundle of the same source gives the same answer (from the bundler's copy of the package).
  t.like(await deployed("services/api/src/handler.handler"), { greeting: "...hello Ada", system: "bundler" });
});

test("ES modules: the same packages resolve with Node's import conditions", async (t) => {
  const { result } = await live("services/api/src/esm.mts");
  t.deepEqual(result, { greeting: "...hello Ada", system: "esm" });
});
