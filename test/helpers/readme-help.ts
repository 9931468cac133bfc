/**
 * The README's command reference is the commands' generated help, verbatim: each help sits in a fenced
 * block after a `<!-- help: pulumi-live ... -->` marker. `npm run docs` rewrites the blocks from the
 * definitions; a test checks they are current.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { commandHelp, mainHelp } from "../../cli/command-line/help";
import { COMMANDS } from "../../cli/main";

export const README = path.join(__dirname, "../../../README.md");

/** The help each marker names: `pulumi-live --help`, `pulumi-live serve --help`, ... */
export function generatedHelp(): Map<string, string> {
  const helps = new Map([["pulumi-live --help", mainHelp(COMMANDS)]]);
  for (const command of COMMANDS) helps.set(`pulumi-live ${command.name} --help`, commandHelp(command));
  return helps;
}

const BLOCK = /<!-- help: (pulumi-live[^>]*?) -->\n```text\n([\s\S]*?)```\n/g;

/** The README's blocks, by marker. */
export function readmeHelp(readme: string): Map<string, string> {
  return new Map([...readme.matchAll(BLOCK)].map((m) => [m[1], m[2]]));
}

/** The README with every marked block replaced by the current help. */
export function withCurrentHelp(readme: string): string {
  const helps = generatedHelp();
  return readme.replace(BLOCK, (whole, marker: string) => {
    const help = helps.get(marker);
    return help === undefined ? whole : `<!-- help: ${marker} -->\n\`\`\`text\n${help}\`\`\`\n`;
  });
}

if (require.main === module) {
  const before = readFileSync(README, "utf8");
  const after = withCurrentHelp(before);
  if (after !== before) writeFileSync(README, after);
  process.stdout.write(
    after === before ? "README.md: command reference current\n" : "README.md: command reference rewritten\n",
  );
}
