import { readFile } from "node:fs/promises";
import test from "ava";
import { runInitCommand } from "../../cli/commands/init";
import { LAUNCH_CONFIGURATION } from "../../cli/init/launch-json";
import { parseLaunchJson as parseJsonc } from "../../cli/init/launch-json";
import { PYTHON_ATTACH_CONFIGURATION } from "../../cli/init/python-attach";
import { tempProject } from "../runtime/temp-project";

async function init(files: Record<string, string>, args: string[]) {
  const project = await tempProject(files);
  const out: string[] = [];
  const io = {
    stdout: (s: string) => void out.push(s),
    stderr: (s: string) => void out.push(s),
    cwd: project.root,
    env: {},
  };
  const code = await runInitCommand(args, io);
  const read = (name: string) => readFile(project.path(name), "utf8");
  return { project, out: out.join(""), code, read };
}

const CONFIG_8 = JSON.stringify(LAUNCH_CONFIGURATION, null, 4)
  .split("\n")
  .map((l) => `        ${l}`)
  .join("\n");

test("init adds .pulumi-live/ to .gitignore once", async (t) => {
  const first = await init({ ".gitignore": "node_modules\ndist" }, []);
  t.teardown(() => first.project.remove());
  t.is(first.code, 0);
  t.is(first.out, "added to .gitignore: .pulumi-live/\n");
  t.is(await first.read(".gitignore"), "node_modules\ndist\n.pulumi-live/\n");
  const out: string[] = [];
  const io = {
    stdout: (s: string) => void out.push(s),
    stderr: () => undefined,
    cwd: first.project.root,
    env: {},
  };
  await runInitCommand([], io);
  t.is(out.join(""), ".gitignore already ignores .pulumi-live/\n");
  t.is(await first.read(".gitignore"), "node_modules\ndist\n.pulumi-live/\n");
});

test("init creates .gitignore when there is none", async (t) => {
  const { project, out, read } = await init({}, []);
  t.teardown(() => project.remove());
  t.is(out, "created .gitignore ignoring .pulumi-live/\n");
  t.is(await read(".gitignore"), ".pulumi-live/\n");
});

test("init vscode writes launch.json when there is none", async (t) => {
  const { project, out, read } = await init({}, ["vscode"]);
  t.teardown(() => project.remove());
  t.is(
    out,
    "created .gitignore ignoring .pulumi-live/\n" +
      'wrote .vscode/launch.json with the "pulumi-live serve" configuration\n' +
      "Start it from VS Code's Run and Debug view; breakpoints in your handlers' .ts files bind when an invocation arrives.\n",
  );
  t.is(
    await read(".vscode/launch.json"),
    JSON.stringify({ version: "0.2.0", configurations: [LAUNCH_CONFIGURATION] }, null, 4) + "\n",
  );
});

const EXISTING = `{
    // Use IntelliSense to learn about possible attributes.
    "version": "0.2.0",
    "configurations": [
        {
            "type": "node", /* the tests */
            "request": "launch",
            "name": "Run tests // with ava",
            "program": "\${workspaceFolder}/node_modules/.bin/ava",
        },
    ]
}
`;

test("init vscode merges into a launch.json with comments, keeping the rest as written", async (t) => {
  const { project, out, read } = await init(
    { ".gitignore": ".pulumi-live/\n", ".vscode/launch.json": EXISTING },
    ["vscode"],
  );
  t.teardown(() => project.remove());
  t.true(
    out.includes(
      'added the "pulumi-live serve" configuration to .vscode/launch.json (kept its 1 other configuration)\n',
    ),
  );
  const text = await read(".vscode/launch.json");
  t.is(text, EXISTING.replace('    "configurations": [\n', `    "configurations": [\n${CONFIG_8},\n`));
  const parsed = parseJsonc(text) as { configurations: { name: string }[] };
  t.deepEqual(
    parsed.configurations.map((c) => c.name),
    ["pulumi-live serve", "Run tests // with ava"],
  );

  const again: string[] = [];
  const io = {
    stdout: (s: string) => void again.push(s),
    stderr: () => undefined,
    cwd: project.root,
    env: {},
  };
  await runInitCommand(["vscode"], io);
  t.true(
    again
      .join("")
      .includes('.vscode/launch.json already has a "pulumi-live serve" configuration; left it as it is\n'),
  );
  t.is(await read(".vscode/launch.json"), text);
});

test("init vscode adds a configurations list where there is none, and fills an empty one", async (t) => {
  const none = await init({ ".vscode/launch.json": '{\n  "version": "0.2.0"\n}\n' }, ["vscode"]);
  t.teardown(() => none.project.remove());
  const config4 = JSON.stringify(LAUNCH_CONFIGURATION, null, 2)
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
  t.is(
    await none.read(".vscode/launch.json"),
    `{\n  "version": "0.2.0",\n  "configurations": [\n${config4}\n  ]\n}\n`,
  );
  const empty = await init({ ".vscode/launch.json": '{\n  "configurations": [ /* none yet */ ]\n}\n' }, [
    "vscode",
  ]);
  t.teardown(() => empty.project.remove());
  // The comment stays, after the configuration put in its place.
  t.is(
    await empty.read(".vscode/launch.json"),
    `{\n  "configurations": [\n${config4} /* none yet */\n  ]\n}\n`,
  );
});

test("init vscode refuses a launch.json that is not JSON with comments", async (t) => {
  const project = await tempProject({ ".vscode/launch.json": "{ nope" });
  t.teardown(() => project.remove());
  const io = { stdout: () => undefined, stderr: () => undefined, cwd: project.root, env: {} };
  const error = await t.throwsAsync(runInitCommand(["vscode"], io));
  t.regex(
    error?.message ?? "",
    /^\.vscode\/launch\.json is not valid JSON with comments \(.+\); fix it, or move it away and run pulumi-live init vscode again\.$/,
  );
  t.is(await readFile(project.path(".vscode/launch.json"), "utf8"), "{ nope");
});

test("init vscode adds the debugpy attach configuration in a project with Python handlers, once", async (t) => {
  const { project, out, read } = await init(
    { "functions/orders/app.py": "def handler(event, context):\n    return 1\n" },
    ["vscode"],
  );
  t.teardown(() => project.remove());
  t.true(
    out.endsWith(
      'added the "pulumi-live: attach to Python handlers" configuration to .vscode/launch.json: while ' +
        '"pulumi-live serve" runs (or pulumi-live serve --inspect), start it to stop at breakpoints in your .py ' +
        "files; the Python interpreter needs debugpy (pip install debugpy)\n",
    ),
    out,
  );
  t.deepEqual(parseJsonc(await read(".vscode/launch.json")), {
    version: "0.2.0",
    configurations: [PYTHON_ATTACH_CONFIGURATION, LAUNCH_CONFIGURATION],
  });
  const again: string[] = [];
  const io = {
    stdout: (s: string) => void again.push(s),
    stderr: () => undefined,
    cwd: project.root,
    env: {},
  };
  await runInitCommand(["vscode"], io);
  t.regex(again.join(""), /already has a "pulumi-live: attach to Python handlers" configuration/);
});

test("init vscode adds no Python configuration where the only .py files are in a virtualenv", async (t) => {
  const { project, read } = await init({ ".venv/lib/site.py": "", "src/api.ts": "" }, ["vscode"]);
  t.teardown(() => project.remove());
  t.deepEqual(parseJsonc(await read(".vscode/launch.json")), {
    version: "0.2.0",
    configurations: [LAUNCH_CONFIGURATION],
  });
});
