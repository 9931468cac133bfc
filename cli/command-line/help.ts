/** `--help` text, made from the same definitions the parser reads: what it lists is what is accepted. */
import type { CommandDefinition, OptionDefinition } from "./definition";
import { HELP_OPTION } from "./definition";
import { optionUsage } from "./parse";

/** Help lines are wrapped to this width, continuation lines indented under the description. */
const WIDTH = 100;

/** `text` in lines of at most WIDTH (a longer word stays whole), after `head`, continued at `indent`. */
function wrap(text: string, indent: number, head = ""): string[] {
  const lines: string[] = [];
  let line = head;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = " ".repeat(indent) + word;
    } else line += (empty ? "" : " ") + word;
    empty = false;
  }
  lines.push(line);
  return lines.map((l) => l.trimEnd());
}

/** Rows of a two-column table: the left column padded to `width` (the widest entry by default). */
function table(
  rows: readonly [string, string][],
  width = Math.max(...rows.map(([left]) => left.length)),
): string[] {
  return rows.flatMap(([left, right]) => {
    const head = `  ${left.padEnd(width)}  `;
    return wrap(right, head.length, head);
  });
}

function optionRow(option: OptionDefinition): [string, string] {
  const left = `${option.short ? `-${option.short}, ` : ""}${optionUsage(option)}`;
  const notes = [option.repeatable ? "repeatable" : "", option.default ? `default: ${option.default}` : ""];
  const extra = notes.filter(Boolean).join("; ");
  return [left, extra ? `${option.description} (${extra})` : option.description];
}

function paragraphs(text: string): string[] {
  return text.split(/\n\s*\n/).flatMap((p, i) => [...(i > 0 ? [""] : []), ...wrap(p, 0)]);
}

/** The help of one command. */
export function commandHelp(command: CommandDefinition): string {
  const lines = [`pulumi-live ${command.name}: ${command.summary}`, "", "Usage:"];
  for (const usage of command.usage) lines.push(`  pulumi-live ${command.name} ${usage}`);
  if (command.description) lines.push("", ...paragraphs(command.description));
  if (command.arguments?.length) {
    lines.push("", "Arguments:", ...table(command.arguments.map((a) => [a.name, a.description])));
  }
  const groups = Object.entries(command.groups ?? {});
  const sections: [string, OptionDefinition[]][] = [
    ["Options:", command.options.filter((o) => o.group === undefined)],
    ...groups.map(([group, heading]): [string, OptionDefinition[]] => [
      `${heading}:`,
      command.options.filter((o) => o.group === group),
    ]),
  ];
  const stray = command.options.find((o) => o.group !== undefined && !(o.group in (command.groups ?? {})));
  if (stray) throw new Error(`--${stray.name} names a group ${command.name} does not have: ${stray.group}`);
  sections[0][1].push(HELP_OPTION);
  // One width for every section, so the descriptions line up down the whole help.
  const width = Math.max(...sections.flatMap(([, options]) => options.map((o) => optionRow(o)[0].length)));
  for (const [heading, options] of sections) {
    if (options.length > 0) lines.push("", heading, ...table(options.map(optionRow), width));
  }
  return lines.join("\n") + "\n";
}

/** The top-level help: the commands and how to get each one's options. */
export function mainHelp(commands: readonly CommandDefinition[]): string {
  const lines = [
    "pulumi-live: live AWS Lambda development for Pulumi",
    "",
    "Usage:",
    "  pulumi-live <command> [options]",
    "",
    "Commands:",
    ...table(commands.map((c) => [c.name, c.summary])),
    "",
    "Options:",
    ...table([
      ["-h, --help", "this help; pulumi-live <command> --help for a command's options"],
      ["-v, --version", "the version"],
    ]),
  ];
  return lines.join("\n") + "\n";
}
