import path from "node:path";
import test from "ava";
import { parseFunctionSpec, resolveHandlerFile } from "../../cli/runtime/handler-spec";
import { UserError } from "../../cli/user-error";
import { tempProject, type TempProject } from "./temp-project";

let project: TempProject;

test.before(async () => {
  project = await tempProject({
    "my.app/src/api.ts": "export const handler = async () => 1;\n",
    "ext/a.ts": "",
    "ext/b.mts": "",
    "ext/c.cts": "",
    "ext/d.js": "",
    "ext/e.mjs": "",
    "ext/f.cjs": "",
    "both/h.ts": "",
    "both/h.js": "",
    "src/api.v2.ts": "",
  });
});
test.after.always(() => project.remove());

test("a folder name with dots stays part of the path; the export follows the last dot", (t) => {
  t.deepEqual(parseFunctionSpec("api=my.app/src/api.handler", project.root), {
    name: "api",
    file: project.path("my.app/src/api.ts"),
    exportName: "handler",
  });
});

test("an absolute path is used as it is", (t) => {
  const spec = parseFunctionSpec(`api=${project.path("my.app/src/api")}.main`, "/nowhere");
  t.deepEqual(spec, { name: "api", file: project.path("my.app/src/api.ts"), exportName: "main" });
});

test("a relative path resolves against cwd, dots in the file name included", (t) => {
  const spec = parseFunctionSpec("v2=./src/api.v2.handler", project.root);
  t.deepEqual(spec, { name: "v2", file: project.path("src/api.v2.ts"), exportName: "handler" });
});

test("each handler extension is found", (t) => {
  const files = ["a.ts", "b.mts", "c.cts", "d.js", "e.mjs", "f.cjs"];
  for (const file of files) {
    const base = file.split(".")[0];
    t.is(parseFunctionSpec(`fn=ext/${base}.handler`, project.root).file, project.path(`ext/${file}`));
  }
});

test("the path as given wins, then .ts before .js", (t) => {
  t.is(resolveHandlerFile(project.root, "both/h.js"), project.path("both/h.js"));
  t.is(resolveHandlerFile(project.root, "both/h"), project.path("both/h.ts"));
});

test("a missing file lists every path tried and the fix", (t) => {
  const error = t.throws(() => parseFunctionSpec("api=src/missing.handler", project.root), {
    instanceOf: UserError,
  });
  const base = path.join(project.root, "src/missing");
  t.is(error.name, "UserError");
  t.is(
    error.message,
    `Cannot find the handler module "src/missing" (relative to ${project.root}). Tried:\n` +
      `  ${base}.ts\n  ${base}.mts\n  ${base}.cts\n  ${base}.js\n  ${base}.mjs\n  ${base}.cjs\n  ${base}.py\n` +
      "Create the file, or fix the path. Name the source file without its extension, a dot and the " +
      'exported function, e.g. src/api.handler for export "handler" of src/api.ts.',
  );
});

test("a handler without an export separator is refused", (t) => {
  t.throws(() => parseFunctionSpec("api=my.app/src/api", project.root), {
    instanceOf: UserError,
    message:
      'Invalid --function "api=my.app/src/api": "my.app/src/api" names no export. Name the source file ' +
      'without its extension, a dot and the exported function, e.g. src/api.handler for export "handler" ' +
      "of src/api.ts. For example --function api=src/api.handler.",
  });
  t.throws(() => parseFunctionSpec("api=src/api.", project.root), { instanceOf: UserError });
});

test("a flag without name= is refused", (t) => {
  const message =
    'Invalid --function "src/api.handler": expected name=path/to/file.export, for example ' +
    "--function api=src/api.handler.";
  t.throws(() => parseFunctionSpec("src/api.handler", project.root), { instanceOf: UserError, message });
  t.throws(() => parseFunctionSpec("=src/api.handler", project.root), { instanceOf: UserError });
});
