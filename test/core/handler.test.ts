import path from "node:path";
import test from "ava";
import { findProjectRoot, moduleFormat, relativeHandler, splitHandler } from "../../core/handler";
import { FunctionBuilder } from "../../cli/runtime/builder";
import { resolveHandler } from "../../sdk/handler-source";
import { Problems } from "../../sdk/errors";
import { tempProject, type TempProject } from "../runtime/temp-project";

let project: TempProject;

test.before(async () => {
  project = await tempProject({
    // A package.json above the Pulumi project: Node.js gives the project's .ts/.js files its "type".
    "package.json": JSON.stringify({ type: "module" }),
    "app/Pulumi.yaml": "name: app\nruntime: nodejs\n",
    "app/src/api.ts": "export const handler = async () => 1;\n",
    "app/src/legacy.cts": "exports.handler = async () => 1;\n",
    "app/src/esm.mjs": "export const handler = async () => 1;\n",
    "app/cjs/package.json": JSON.stringify({ name: "cjs" }),
    "app/cjs/job.ts": "export const handler = async () => 1;\n",
    "app/bad/package.json": "{ not json",
    "app/bad/job.js": "exports.handler = async () => 1;\n",
  });
});
test.after.always(() => project.remove());

const splits: Array<[string, ReturnType<typeof splitHandler>]> = [
  ["src/api.handler", { modulePath: "src/api", exportName: "handler" }],
  ["my.app/src/api.main", { modulePath: "my.app/src/api", exportName: "main" }],
  ["src/api.v2.handler", { modulePath: "src/api.v2", exportName: "handler" }],
  ["src/api.ts.handler", { modulePath: "src/api.ts", exportName: "handler" }],
  ["  src/api.$h_1  ", { modulePath: "src/api", exportName: "$h_1" }],
  ["src/api", undefined],
  ["src/api.", undefined],
  ["my.app/src/api", undefined],
  [".handler", undefined],
  ["src/api.1x", undefined],
  ["src/api.a-b", undefined],
];

for (const [handler, expected] of splits) {
  test(`splitHandler(${JSON.stringify(handler)})`, (t) => {
    t.deepEqual(splitHandler(handler), expected);
  });
}

test("module formats follow Node.js: extensions first, then the nearest package.json up to the root", (t) => {
  t.is(moduleFormat(project.path("app/src/api.ts")), "esm");
  t.is(moduleFormat(project.path("app/src/legacy.cts")), "cjs");
  t.is(moduleFormat(project.path("app/src/esm.mjs")), "esm");
  t.is(moduleFormat(project.path("app/cjs/job.ts")), "cjs");
  t.is(moduleFormat(project.path("app/bad/job.js")), "cjs");
});

test("the deployed bundle and the live build pick the same format for the same file", async (t) => {
  const root = project.path("app");
  for (const [handler, file] of [
    ["src/api.handler", "src/api.ts"],
    ["cjs/job.handler", "cjs/job.ts"],
    ["src/legacy.handler", "src/legacy.cts"],
  ]) {
    const problems = new Problems();
    const deployed = resolveHandler(handler, root, problems);
    const live = new FunctionBuilder({
      name: "api",
      entry: project.path(`app/${file}`),
      exportName: "handler",
      outDir: project.path("out"),
      watch: false,
    });
    t.is(deployed?.format, live.format, handler);
  }
});

test("the project root is the nearest folder with Pulumi.yaml", (t) => {
  t.is(findProjectRoot(project.path("app/src")), project.path("app"));
  t.is(findProjectRoot(project.path("app")), project.path("app"));
  t.is(findProjectRoot(path.parse(project.root).root), undefined);
});

test("a handler written relative to the root drops the extension", (t) => {
  t.is(relativeHandler(project.path("app"), project.path("app/src/api.ts"), "handler"), "src/api.handler");
  t.is(relativeHandler(project.path("app"), project.path("app/src/api.v2.mts"), "h"), "src/api.v2.h");
});
