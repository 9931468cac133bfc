/**
 * One definition per command: its options, arguments and help text in one table, from which both the
 * parser and `--help` are made, so the two cannot disagree.
 */
import type { CommandIo } from "../commands/command-io";
import type { ParsedArgs } from "./parse";

/** An option of a command, e.g. `--port N`. */
export interface OptionDefinition {
  /** The long name without dashes: `port` for `--port`. */
  readonly name: string;
  /** A one-letter alias without the dash: `h` for `-h`. */
  readonly short?: string;
  /**
   * What follows the option: nothing (a flag, the default), a value (`--port 3000` or `--port=3000`),
   * or a value only after `=` (`--inspect` or `--inspect=HOST:PORT`).
   */
  readonly takes?: "value" | "optional-value";
  /** The option may be given more than once; each value is kept. */
  readonly repeatable?: boolean;
  /** The value's name in the help, e.g. `N` or `NAME=PATH.EXPORT`. */
  readonly placeholder?: string;
  /** What the option does, one line, lower case, no full stop (the help's style). */
  readonly description: string;
  /** The default as the help shows it. */
  readonly default?: string;
  /** The help section it is listed under (a key of `CommandDefinition.groups`). */
  readonly group?: string;
}

/** A positional argument, for the help. */
export interface ArgumentDefinition {
  /** As the usage line shows it, e.g. `<function>`. */
  readonly name: string;
  readonly description: string;
}

/** What the help and the parser know of a command. */
export interface CommandDefinition {
  /** The word after `pulumi-live`. */
  readonly name: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** Usage lines, each after `pulumi-live <name> `. */
  readonly usage: readonly string[];
  /** Paragraphs under the usage. */
  readonly description?: string;
  readonly arguments?: readonly ArgumentDefinition[];
  /** How many positional arguments the command takes. @default none */
  readonly positionals?: { readonly min: number; readonly max: number };
  readonly options: readonly OptionDefinition[];
  /** Headings of the option sections, in order; options without a group come first. */
  readonly groups?: Readonly<Record<string, string>>;
}

/**
 * A command: its definition, how it reads the parsed command line into its own options (every problem
 * the user can fix goes to `problems`, with its fix), and how it runs. `D` are what tests inject.
 */
export interface CommandSpec<O, D = object> extends CommandDefinition {
  read: (args: ParsedArgs, problems: string[], io: CommandIo) => O;
  run: (options: O, io: CommandIo, deps: D) => Promise<number>;
}

/** The option every command has. */
export const HELP_OPTION: OptionDefinition = { name: "help", short: "h", description: "this help" };

/** `--stack NAME`, as the commands that read a deployed stack take it. */
export const STACK_OPTION: OptionDefinition = {
  name: "stack",
  takes: "value",
  placeholder: "NAME",
  description: "the Pulumi stack",
  default: "the selected one",
};

/** `--cwd DIR`: where the Pulumi project is. */
export const CWD_OPTION: OptionDefinition = {
  name: "cwd",
  takes: "value",
  placeholder: "DIR",
  description: "the Pulumi project folder",
  default: "the current one",
};
