/** `pulumi-live init [vscode]`: ignore `.pulumi-live/` in git; with `vscode`, a debugger launch configuration. */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { withPulumiLiveIgnored } from "../init/gitignore";
import { LAUNCH_NAME, mergeLaunchJson } from "../init/launch-json";
import { hasPythonSources, PYTHON_ATTACH_CONFIGURATION, PYTHON_ATTACH_NAME } from "../init/python-attach";
import { defineCommand } from "../command-line/command";
import { UserError } from "../user-error";
import type { CommandIo } from "./command-io";

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new UserError(`Cannot read ${file}: ${(error as Error).message}`);
  }
}

export const initCommand = defineCommand<{ vscode: boolean }>({
  name: "init",
  summary: "ignore .pulumi-live/ in git; with vscode, write a VS Code launch configuration",
  usage: ["[vscode]"],
  arguments: [
    {
      name: "vscode",
      description:
        `also write .vscode/launch.json's "${LAUNCH_NAME}" configuration, which runs ` +
        "node_modules/.bin/pulumi-live serve under VS Code's debugger (other configurations and comments are " +
        `kept); in a project with Python handlers, also "${PYTHON_ATTACH_NAME}"`,
    },
  ],
  description: "Adds .pulumi-live/ (builds, invocation records) to .gitignore.",
  positionals: { min: 0, max: 1 },
  options: [],
  read(args, problems) {
    const [target] = args.positionals;
    if (target !== undefined && target !== "vscode") {
      problems.push(`Unknown init target "${target}". Run pulumi-live init, or pulumi-live init vscode.`);
    }
    return { vscode: target === "vscode" };
  },
  run: (options, io) => init(options.vscode, io),
});

/** Runs `pulumi-live init`; resolves with the exit code. Throws UserError for what the user can fix. */
export function runInitCommand(args: string[], io: CommandIo): Promise<number> {
  return initCommand.execute(args, io);
}

async function init(vscode: boolean, io: CommandIo): Promise<number> {
  const gitignore = path.join(io.cwd, ".gitignore");
  const before = await readIfExists(gitignore);
  const after = withPulumiLiveIgnored(before);
  if (after === undefined) io.stdout(".gitignore already ignores .pulumi-live/\n");
  else {
    await writeFile(gitignore, after);
    io.stdout(
      `${before === undefined ? "created .gitignore ignoring" : "added to .gitignore:"} .pulumi-live/\n`,
    );
  }
  if (vscode) {
    await initVscode(io);
    if (hasPythonSources(io.cwd)) await initPythonAttach(io);
  }
  return 0;
}

async function initVscode(io: CommandIo): Promise<void> {
  const file = path.join(io.cwd, ".vscode", "launch.json");
  const shown = path.join(".vscode", "launch.json");
  const existing = await readIfExists(file);
  let merge;
  try {
    merge = mergeLaunchJson(existing);
  } catch (error) {
    throw new UserError(
      `${shown} is not valid JSON with comments (${(error as Error).message}); fix it, or move it away and run pulumi-live init vscode again.`,
    );
  }
  if (merge.change === "unchanged") {
    io.stdout(`${shown} already has a "${LAUNCH_NAME}" configuration; left it as it is\n`);
    return;
  }
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, merge.text);
  const others = merge.kept === 1 ? "1 other configuration" : `${merge.kept} other configurations`;
  io.stdout(
    merge.change === "created"
      ? `wrote ${shown} with the "${LAUNCH_NAME}" configuration\n`
      : `added the "${LAUNCH_NAME}" configuration to ${shown} (kept its ${others})\n`,
  );
  io.stdout(
    `Start it from VS Code's Run and Debug view; breakpoints in your handlers' .ts files bind when an invocation arrives.\n`,
  );
}
/** The debugpy attach configuration, for a project with Python handlers. */
async function initPythonAttach(io: CommandIo): Promise<void> {
  const file = path.join(io.cwd, ".vscode", "launch.json");
  const shown = path.join(".vscode", "launch.json");
  // initVscode has just written or checked the file: it parses.
  const merge = mergeLaunchJson(await readIfExists(file), PYTHON_ATTACH_CONFIGURATION);
  if (merge.change === "unchanged") {
    io.stdout(`${shown} already has a "${PYTHON_ATTACH_NAME}" configuration; left it as it is\n`);
    return;
  }
  await writeFile(file, merge.text);
  io.stdout(
    `added the "${PYTHON_ATTACH_NAME}" configuration to ${shown}: while "${LAUNCH_NAME}" runs (or ` +
      "pulumi-live serve --inspect), start it to stop at breakpoints in your .py files; the Python " +
      "interpreter needs debugpy (pip install debugpy)\n",
  );
}
