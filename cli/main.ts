/**
 * The `pulumi-live` command line: finds the command, runs it, and turns what it throws into the exit
 * code: 2 with the problems for what the user can fix, 1 with the stack for a bug.
 */
import type { Command } from "./command-line/command";
import { mainHelp } from "./command-line/help";
import { closest } from "./command-line/parse";
import type { CommandIo } from "./commands/command-io";
import { fireCommand } from "./commands/fire";
import { initCommand } from "./commands/init";
import { invokeCommand } from "./commands/invoke";
import { policyCommand } from "./commands/policy";
import { replayCommand } from "./commands/replay";
import { serveCommand } from "./commands/serve";
import { statusCommand } from "./commands/status";
import { UsageError, UserError } from "./user-error";

/** Every command, in the order the help lists them. */
export const COMMANDS: readonly Command[] = [
  serveCommand,
  statusCommand,
  policyCommand,
  invokeCommand,
  fireCommand,
  replayCommand,
  initCommand,
];

function version(): string {
  return (require("../../package.json") as { version: string }).version;
}

/** What went wrong, for stderr: one line per problem, then where the help is for a usage error. */
export function formatError(error: unknown): { text: string; code: number } {
  if (error instanceof UserError) {
    const lines = error.problems.map((problem) => `pulumi-live: ${problem}`);
    if (error instanceof UsageError) {
      lines.push(`Run pulumi-live ${error.command ? `${error.command} ` : ""}--help for the options.`);
    }
    return { text: lines.join("\n") + "\n", code: 2 };
  }
  const e = error as Error;
  return {
    text: `pulumi-live: unexpected error (a bug; please report it):\n${e.stack ?? String(e)}\n`,
    code: 1,
  };
}

async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help") {
    io.stdout(mainHelp(COMMANDS));
    return 0;
  }
  if (name === "-v" || name === "--version") {
    io.stdout(version() + "\n");
    return 0;
  }
  // `pulumi-live help serve` is `pulumi-live serve --help`.
  if (name === "help") return rest.length === 0 ? run(["--help"], io) : run([rest[0], "--help"], io);
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const suggestion = closest(
      name,
      COMMANDS.map((c) => c.name),
    );
    throw new UsageError(
      "",
      `Unknown command "${name}"${suggestion ? `: did you mean ${suggestion}?` : "."} The commands: ${COMMANDS.map((c) => c.name).join(", ")}.`,
    );
  }
  return command.execute(rest, io);
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: readonly string[], io: Partial<CommandIo> = {}): Promise<number> {
  const full: CommandIo = {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    cwd: process.cwd(),
    env: process.env,
    ...io,
  };
  try {
    return await run(argv, full);
  } catch (error) {
    const { text, code } = formatError(error);
    full.stderr(text);
    return code;
  }
}
