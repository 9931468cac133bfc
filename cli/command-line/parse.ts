/**
 * Reads a command line against a command's definition, collecting every problem instead of stopping at
 * the first (node:util's parseArgs stops at the first in strict mode, and in loose mode takes the next
 * flag as a value), so the user fixes them all in one go.
 */
import type { CommandDefinition, OptionDefinition } from "./definition";
import { HELP_OPTION } from "./definition";

/** The options and arguments a command line gave, by the names of the command's definition. */
export class ParsedArgs {
  constructor(
    private readonly options: ReadonlyMap<string, OptionDefinition>,
    private readonly given: ReadonlyMap<string, readonly string[]>,
    /** Arguments that are not options, in order. */
    readonly positionals: readonly string[],
  ) {}

  private known(name: string): string {
    // A name the definition does not have is a bug in the command, not the user's mistake.
    if (!this.options.has(name)) throw new Error(`option --${name} is not in the command's definition`);
    return name;
  }

  /** Whether the option was given at all. */
  has(name: string): boolean {
    return this.given.has(this.known(name));
  }

  /** A flag's value: given or not. */
  flag(name: string): boolean {
    return this.has(name);
  }

  /** The option's value; `""` for an optional-value option given bare (`--inspect`). */
  value(name: string): string | undefined {
    return this.given.get(this.known(name))?.at(-1);
  }

  /** Every value of a repeatable option, in order. */
  values(name: string): readonly string[] {
    return this.given.get(this.known(name)) ?? [];
  }

  /** The names of the options given, in the order of the definition. */
  names(): string[] {
    return [...this.options.keys()].filter((name) => this.given.has(name));
  }
}

export interface ParseResult {
  args: ParsedArgs;
  /** `--help` or `-h` was given: the command prints its help, whatever else is wrong. */
  help: boolean;
  problems: string[];
}

/** Edit distance counting a swap of two neighbours as one edit, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** The closest known name to a mistyped one, if any is close. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const candidate of known) {
    const d = candidate.startsWith(name) && name.length >= 2 ? 1 : distance(name, candidate);
    if (d <= Math.max(1, Math.floor(candidate.length / 3)) && (!best || d < best.d)) {
      best = { name: candidate, d };
    }
  }
  return best?.name;
}

/** How an option is written in the help and in messages: `--port N`, `--inspect[=HOST:PORT]`. */
export function optionUsage(option: OptionDefinition): string {
  const value = option.placeholder ?? "VALUE";
  if (option.takes === "value") return `--${option.name} ${value}`;
  if (option.takes === "optional-value") return `--${option.name}[=${value}]`;
  return `--${option.name}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Reads `argv` (the words after the command's name) against the command's definition. */
export function parseCommandLine(definition: CommandDefinition, argv: readonly string[]): ParseResult {
  const options = new Map<string, OptionDefinition>();
  for (const option of [...definition.options, HELP_OPTION]) options.set(option.name, option);
  const shorts = new Map([...options.values()].filter((o) => o.short).map((o) => [o.short!, o]));
  const given = new Map<string, string[]>();
  const positionals: string[] = [];
  const problems: string[] = [];
  const command = definition.name;

  const unknown = (written: string) => {
    const names = [...options.keys()];
    const suggestion = closest(written.replace(/^-+/, ""), names);
    problems.push(
      `${command} has no option ${written}` + (suggestion ? `: did you mean --${suggestion}?` : "."),
    );
  };
  const keep = (option: OptionDefinition, value: string) => {
    const values = given.get(option.name) ?? [];
    if (values.length > 0 && !option.repeatable && values.at(-1) !== value) {
      problems.push(
        `--${option.name} is given more than once ("${values.at(-1)}" and "${value}"): give it once.`,
      );
    }
    given.set(option.name, [...values, value]);
  };

  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!word.startsWith("-") || word === "-") {
      positionals.push(word);
      continue;
    }
    const long = word.startsWith("--");
    const equals = long ? word.indexOf("=") : -1;
    const written = equals >= 0 ? word.slice(0, equals) : word;
    const option = long ? options.get(written.slice(2)) : shorts.get(written.slice(1));
    if (!option) {
      unknown(written);
      continue;
    }
    const inline = equals >= 0 ? word.slice(equals + 1) : undefined;
    if (!option.takes) {
      if (inline !== undefined) problems.push(`--${option.name} takes no value (got ${word}).`);
      keep(option, "");
      continue;
    }
    if (inline !== undefined) {
      keep(option, inline);
      continue;
    }
    if (option.takes === "optional-value") {
      keep(option, "");
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined || (next.startsWith("-") && next !== "-")) {
      problems.push(`--${option.name} needs a value: ${optionUsage(option)}.`);
      continue;
    }
    keep(option, next);
    i++;
  }

  const { min, max } = definition.positionals ?? { min: 0, max: 0 };
  if (positionals.length < min || positionals.length > max) {
    const count = (n: number) => (n === 1 ? "one argument" : plural(n, "argument"));
    const wanted =
      max === 0
        ? "no arguments"
        : min === max
          ? count(min)
          : min === 0
            ? `at most ${count(max)}`
            : `${min} to ${max} arguments`;
    const got = positionals.length === 0 ? "none" : positionals.map((p) => `"${p}"`).join(" ");
    problems.push(
      `${command} takes ${wanted} (got ${got}). Usage: pulumi-live ${command} ${definition.usage[0]}`,
    );
  }
  return {
    args: new ParsedArgs(options, given, positionals),
    help: given.has(HELP_OPTION.name),
    problems,
  };
}

/** A whole number ≥ `min` from an option's value, or a problem saying what it takes. */
export function wholeNumber(args: ParsedArgs, name: string, problems: string[], min = 0): number | undefined {
  const value = args.value(name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    problems.push(`--${name} takes a whole number${min > 0 ? ` ≥ ${min}` : ""} (got "${value}").`);
    return undefined;
  }
  return Number(value);
}
