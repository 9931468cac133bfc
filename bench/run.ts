import { writeFileSync } from "node:fs";
import path from "node:path";
import { benchPackageResolution } from "./package-resolution";
import { benchProgramRun } from "./program-run";
import { benchRebuild } from "./rebuild";
import { benchPython } from "./python";
import { benchRelay } from "./relay";
import { benchServe } from "./serve";
import { benchStandIn } from "./standin";
import { benchStream } from "./stream";
import { benchStub } from "./stub-size";
import type { Row } from "./stats";

const USAGE = `npm run bench -- [--json] [--only STEP,...] [--rebuilds N] [--invocations N] [--environments N] [--no-record]
  --json           one JSON object per row on stdout instead of the table
  --only           steps to run: stub, rebuild, packages, relay, stream, serve, standin, python,
                   program (default: all)
  --rebuilds N     rebuilds of the serve step, an invocation after each (default 1000)
  --invocations N  invocations of the serve step's concurrent run (default 10000)
  --environments N the serve step's environments for its 16 clients (default 16)
  --no-record      the serve step without invocation records`;

interface BenchOptions {
  json: boolean;
  only?: Set<string>;
  rebuilds: number;
  invocations: number;
  environments?: number;
  noRecord: boolean;
}

function parse(argv: string[]): BenchOptions {
  const options: BenchOptions = { json: false, rebuilds: 1000, invocations: 10_000, noRecord: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--json") options.json = true;
    else if (flag === "--only") options.only = new Set((argv[++i] ?? "").split(","));
    else if (flag === "--rebuilds") options.rebuilds = Number(argv[++i]);
    else if (flag === "--invocations") options.invocations = Number(argv[++i]);
    else if (flag === "--environments") options.environments = Number(argv[++i]);
    else if (flag === "--no-record") options.noRecord = true;
    else throw new Error(`unknown option ${flag}\n${USAGE}`);
  }
  if (!(options.rebuilds >= 100) || !(options.invocations >= 1000)) {
    throw new Error(`--rebuilds takes 100 or more, --invocations 1000 or more\n${USAGE}`);
  }
  if (
    options.environments !== undefined &&
    !(Number.isInteger(options.environments) && options.environments >= 1)
  ) {
    throw new Error(`--environments takes a whole number, 1 or more\n${USAGE}`);
  }
  return options;
}

/**
 * `npm run bench`: prints a Markdown table of the figures (or, with --json, one JSON object per row) and
 * writes them to dist/bench/results.json.
 */
async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  const rows: Row[] = [];
  const started = Date.now();
  const step = async (name: string, run: () => Promise<Row[]> | Row[]) => {
    if (options.only && !options.only.has(name)) return;
    const t0 = Date.now();
    process.stderr.write(`bench: ${name}…`);
    const out = await run();
    process.stderr.write(` ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    rows.push(...out);
    if (options.json) for (const row of out) process.stdout.write(JSON.stringify(row) + "\n");
  };
  await step("stub", benchStub);
  await step("rebuild", () => benchRebuild());
  await step("packages", benchPackageResolution);
  await step("relay", benchRelay);
  await step("stream", benchStream);
  await step("serve", () =>
    benchServe({
      rebuilds: options.rebuilds,
      invocations: options.invocations,
      environments: options.environments,
      noRecord: options.noRecord,
    }),
  );
  await step("standin", benchStandIn);
  await step("python", benchPython);
  await step("program", benchProgramRun);
  process.stderr.write(`bench: done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  if (!options.json) {
    const lines = [
      "| figure | value | baseline (same run) | ratio | goal | met | load |",
      "| --- | --- | --- | --- | --- | --- | --- |",
      ...rows.map(
        (r) =>
          `| ${r.figure} | ${r.value} | ${r.baseline ?? ""} | ${r.ratio ?? ""} | ${r.goal ?? ""} | ${r.met === undefined ? "" : r.met ? "yes" : "no"} | ${r.load ?? ""} |`,
      ),
    ];
    process.stdout.write(lines.join("\n") + "\n");
  }
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
