import { writeFileSync } from "node:fs";
import path from "node:path";
import { benchPackageResolution } from "./package-resolution";
import { benchRebuild } from "./rebuild";
import { benchPython } from "./python";
import { benchRelay } from "./relay";
import { benchStandIn } from "./standin";
import { benchStub } from "./stub-size";
import type { Row } from "./stats";

/** `npm run bench`: prints a Markdown table of the figures and writes them to dist/bench/results.json. */
async function main(): Promise<void> {
  const rows: Row[] = [];
  const step = async (name: string, run: () => Promise<Row[]> | Row[]) => {
    process.stderr.write(`bench: ${name}…\n`);
    rows.push(...(await run()));
  };
  await step("stub bundle", benchStub);
  await step("rebuild", () => benchRebuild());
  await step("package resolution", benchPackageResolution);
  await step("relay", benchRelay);
  await step("AWS IoT Core stand-in", benchStandIn);
  await step("python", benchPython);
  const lines = [
    "| figure | value | baseline (same process) | ratio | goal |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map(
      (r) => `| ${r.figure} | ${r.value} | ${r.baseline ?? ""} | ${r.ratio ?? ""} | ${r.goal ?? ""} |`,
    ),
  ];
  process.stdout.write(lines.join("\n") + "\n");
  writeFileSync(
    path.join(__dirname, "results.json"),
    JSON.stringify({ date: new Date().toISOString(), rows }, null, 2),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
