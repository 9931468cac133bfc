import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { commandHelp } from "../../cli/command-line/help";
import { parseCommandLine } from "../../cli/command-line/parse";
import type { CommandDefinition } from "../../cli/command-line/definition";
import { COMMANDS, main } from "../../cli/main";
import { generatedHelp, README, readmeHelp } from "../helpers/readme-help";

/** The binary; PULUMI_LIVE_TEST_BIN runs the spawned cases against another build (an older one, say). */
const BIN = process.env.PULUMI_LIVE_TEST_BIN ?? path.join(__dirname, "../../../bin/pulumi-live.js");

/** `main` in-process, with what it writes. */
async function run(argv: string[], cwd = process.cwd()) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    cwd,
    env: {},
  });
  return { code, stdout, stderr };
}

/** The binary as a user runs it. */
async function spawnCli(args: string[]) {
  const cwd = await mkdtemp(path.join(tmpdir(), "pulumi-live-cli-"));
  try {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    return { code, stdout, stderr };
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

/** Every `--option` a help text names. */
function optionsIn(help: string): Set<string> {
  return new Set([...help.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => m[1]));
}

const accepts = (command: CommandDefinition, name: string) =>
  !parseCommandLine(command, [`--${name}`]).problems.some((p) => p.includes("has no option"));

for (const command of COMMANDS) {
  test(`${command.name} --help and -h print its help, listing every option it accepts and no other`, async (t) => {
    const long = await run([command.name, "--help"]);
    const short = await run([command.name, "-h"]);
    t.deepEqual([long.code, long.stderr, short.code, short.stdout], [0, "", 0, long.stdout]);
    t.is(long.stdout, commandHelp(command));
    const listed = optionsIn(long.stdout);
    for (const option of command.options)
      t.true(listed.has(option.name), `--${option.name} is not in the help`);
    t.true(listed.has("help"));
    // Every option the help shows (in descriptions too: serve's say "--only a,b") is one this command
    // accepts, or another command's name mentioned in passing.
    const elsewhere = new Set(COMMANDS.flatMap((c) => c.options.map((o) => o.name)));
    for (const name of listed) {
      t.true(
        accepts(command, name) || elsewhere.has(name),
        `the help names --${name}, which no command accepts`,
      );
    }
    for (const option of command.options) {
      t.true(accepts(command, option.name), `--${option.name} is in the definition but not accepted`);
      t.regex(long.stdout, new RegExp(`^  .*--${option.name}\\b.*\\S`, "m"), `--${option.name} has no line`);
    }
  });
}

test("the top-level help lists every command; help COMMAND is COMMAND --help", async (t) => {
  const help = await run(["--help"]);
  t.is(help.code, 0);
  for (const command of COMMANDS) t.regex(help.stdout, new RegExp(`^  ${command.name} +\\S`, "m"));
  t.deepEqual(await run([]), help);
  t.deepEqual(await run(["-h"]), help);
  t.deepEqual(await run(["help", "status"]), await run(["status", "--help"]));
});

// The defect: serve and status answered "Unknown option '--help'" and exit 2.
test("the binary answers serve --help and status --help with their options, exit 0", async (t) => {
  const serve = await spawnCli(["serve", "--help"]);
  t.is(serve.code, 0, serve.stderr);
  for (const flag of [
    "--local",
    "--function",
    "--port",
    "--stack",
    "--only",
    "--profile",
    "--inspect",
    "--record",
  ]) {
    t.true(serve.stdout.includes(flag), `serve --help lacks ${flag}`);
  }
  const status = await spawnCli(["status", "--help"]);
  t.is(status.code, 0, status.stderr);
  for (const flag of ["--stack", "--cwd", "--profile", "--json"]) t.true(status.stdout.includes(flag));
});

// The defect: serve against a stack stopped at the first problem, where serve --local reported all.
test("serve against a stack reports every problem with its options at once, exit 2", async (t) => {
  const cli = await spawnCli(["serve", "--concurrency", "0", "--record", "0", "--inspect=a:b:c"]);
  t.is(cli.code, 2);
  const lines = cli.stderr.trimEnd().split("\n");
  t.deepEqual(lines.slice(0, 3), [
    "pulumi-live: --concurrency must be a whole number ≥ 1 (got 0).",
    'pulumi-live: Invalid --inspect "a:b:c": expected --inspect, --inspect=PORT or --inspect=HOST:PORT (e.g. 127.0.0.1:9229).',
    "pulumi-live: --record takes how many records to keep per function, 1 or more (got 0).",
  ]);
});

test("usage problems of any kind come together, each with its fix, then where the help is", async (t) => {
  const out = await run([
    "serve",
    "--local",
    "--fucntion",
    "a=b.c",
    "--port",
    "x",
    "--only",
    "api",
    "--http-source",
    "carrier-pigeon",
    "extra",
  ]);
  t.is(out.code, 2);
  t.is(out.stdout, "");
  t.deepEqual(out.stderr.trimEnd().split("\n"), [
    "pulumi-live: serve has no option --fucntion: did you mean --function?",
    'pulumi-live: serve takes no arguments (got "a=b.c" "extra"). Usage: pulumi-live serve [--stack NAME] [--cwd DIR] [--only a,b] [options]',
    "pulumi-live: --only serve a deployed stack; serve --local runs without one. Drop them, or drop --local.",
    'pulumi-live: --port takes a whole number (got "x").',
    'pulumi-live: Invalid --http-source "carrier-pigeon": expected KIND or NAME=KIND, KIND one of http-api, function-url, rest-api, alb, alb-multi.',
    "Run pulumi-live serve --help for the options.",
  ]);
  t.deepEqual(await run(["stauts"]), {
    code: 2,
    stdout: "",
    stderr:
      'pulumi-live: Unknown command "stauts": did you mean status? The commands: serve, status, policy, invoke, fire, replay, init.\n' +
      "Run pulumi-live --help for the options.\n",
  });
});

const definition: CommandDefinition = {
  name: "demo",
  summary: "",
  usage: ["<x>"],
  positionals: { min: 1, max: 1 },
  options: [
    { name: "port", takes: "value", placeholder: "N", description: "" },
    { name: "inspect", takes: "optional-value", placeholder: "HOST:PORT", description: "" },
    { name: "env", takes: "value", repeatable: true, description: "" },
    { name: "json", description: "" },
  ],
};

const cases: [string[], Record<string, unknown>, string[]][] = [
  [["x", "--port", "1", "--json"], { port: "1", json: true, positionals: ["x"] }, []],
  [["--port=2", "x"], { port: "2", positionals: ["x"] }, []],
  [["x", "--inspect"], { inspect: "", positionals: ["x"] }, []],
  [
    ["x", "--inspect=9230", "--env", "A=1", "--env=B=2"],
    { inspect: "9230", env: ["A=1", "B=2"], positionals: ["x"] },
    [],
  ],
  [["--port", "--json", "x"], { json: true, positionals: ["x"] }, ["--port needs a value: --port N."]],
  [["x", "--json=yes"], { json: true, positionals: ["x"] }, ["--json takes no value (got --json=yes)."]],
  [
    ["x", "--port", "1", "--port", "2"],
    { port: "2", positionals: ["x"] },
    ['--port is given more than once ("1" and "2"): give it once.'],
  ],
  [
    ["x", "-z", "--prot", "1"],
    { positionals: ["x", "1"] },
    [
      "demo has no option -z.",
      "demo has no option --prot: did you mean --port?",
      'demo takes one argument (got "x" "1"). Usage: pulumi-live demo <x>',
    ],
  ],
  [["--", "--json"], { positionals: ["--json"] }, []],
  [["-"], { positionals: ["-"] }, []],
];

test("the parser reads values, flags and arguments, and lists every problem", (t) => {
  for (const [argv, expected, problems] of cases) {
    const parsed = parseCommandLine(definition, argv);
    const values: Record<string, unknown> = { positionals: [...parsed.args.positionals] };
    for (const option of definition.options) {
      if (!parsed.args.has(option.name)) continue;
      values[option.name] = option.repeatable
        ? [...parsed.args.values(option.name)]
        : option.takes
          ? parsed.args.value(option.name)
          : parsed.args.flag(option.name);
    }
    t.deepEqual({ values, problems: parsed.problems }, { values: expected, problems }, argv.join(" "));
  }
});

test("the README's command reference is the generated help", (t) => {
  const readme = readmeHelp(readFileSync(README, "utf8"));
  for (const [marker, help] of generatedHelp()) {
    t.is(readme.get(marker), help, `${marker} in README.md is not current: npm run docs rewrites it`);
  }
});
