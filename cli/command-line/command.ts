/** A command made from its spec: parse, `--help`, every problem at once, then run. */
import type { CommandIo } from "../commands/command-io";
import { UsageError } from "../user-error";
import type { CommandDefinition, CommandSpec } from "./definition";
import { commandHelp } from "./help";
import { parseCommandLine } from "./parse";

export interface Command<D = object> extends CommandDefinition {
  /**
   * Runs the command with the words after its name; resolves with the exit code. `--help` prints the
   * help and resolves 0. Problems with the command line throw one `UsageError` listing them all;
   * what the user can fix later on throws `UserError`.
   */
  execute(argv: readonly string[], io: CommandIo, deps?: D): Promise<number>;
}

export function defineCommand<O, D = object>(spec: CommandSpec<O, D>): Command<D> {
  const { read, run, ...definition } = spec;
  return {
    ...definition,
    async execute(argv, io, deps) {
      const parsed = parseCommandLine(definition, argv);
      if (parsed.help) {
        io.stdout(commandHelp(definition));
        return 0;
      }
      const problems = [...parsed.problems];
      const options = read(parsed.args, problems, io);
      if (problems.length > 0) throw new UsageError(definition.name, problems);
      return run(options, io, deps ?? ({} as D));
    },
  };
}
