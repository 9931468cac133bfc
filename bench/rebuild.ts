import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import * as esbuild from "esbuild";
import { FunctionBuilder, type BuildResult, type GoodBuild } from "../cli/runtime/builder";
import { handlerSource, MODULES, writeProject } from "./project";
import { load, ms, percentile, type Row } from "./stats";

/**
 * Rebuild after an edit (what the builder does, from the change to the new version on disk: in module
 * mode, the changed module compiled alone) against esbuild's floor — an incremental esbuild bundle context
 * of its own, with the bundle build's options, rebuilt after the same edit — and a full build of the same
 * project, interleaved in the same process. Module mode moves work to the worker's load (each module
 * compiled apart instead of one bundle): that is measured too, in `--json` data.
 */
export async function benchRebuild(rounds = 60): Promise<Row[]> {
  const dir = await mkdtemp(path.join(tmpdir(), "pulumi-live-bench-"));
  try {
    const entry = await writeProject(dir);
    let onBuild: ((r: BuildResult) => void) | undefined;
    const builder = new FunctionBuilder({
      name: "bench",
      entry,
      exportName: "handler",
      outDir: path.join(dir, ".pulumi-live/build/bench"),
      watch: true,
      cwd: dir,
      onBuild: (r) => onBuild?.(r),
    });
    const first = await builder.start();
    if (!first.ok) throw new Error(first.error);
    // esbuild's floor: a context of its own with the builder's options, rebuilt after the same edit.
    const floorContext = await esbuild.context({
      entryPoints: [entry],
      absWorkingDir: dir,
      bundle: true,
      platform: "node",
      target: "node20",
      packages: "external",
      format: "cjs",
      sourcemap: "inline",
      sourcesContent: true,
      metafile: true,
      write: false,
      logLevel: "silent",
      outfile: path.join(dir, "floor/index.cjs"),
    });
    await floorContext.rebuild();
    const rebuilds: number[] = [];
    const compiled: number[] = [];
    const unchanged: number[] = [];
    const full: number[] = [];
    // Interleaved, so that the machine's load weighs on the three alike.
    for (let i = 1; i <= rounds; i++) {
      // The first good build that holds this edit (a build already running may not).
      const built = new Promise<BuildResult>((resolve) => {
        onBuild = (r) => {
          if (r.ok && /edit: (\d+)/.exec(handlerCode(r))?.[1] === String(i)) resolve(r);
        };
      });
      await writeFile(entry, handlerSource(i));
      const result = await built;
      rebuilds.push(result.durationMs);
      if (result.ok) compiled.push(result.compiled?.length ?? NaN);
      onBuild = undefined;
      const u0 = performance.now();
      await floorContext.rebuild();
      unchanged.push(performance.now() - u0);
      const f0 = performance.now();
      await esbuild.build({
        entryPoints: [entry],
        bundle: true,
        platform: "node",
        format: "cjs",
        write: false,
        sourcemap: "inline",
        logLevel: "silent",
      });
      full.push(performance.now() - f0);
    }
    const loads = await measureLoads(builder, floorContext, dir);
    await floorContext.dispose();
    await builder.dispose();
    const p50 = percentile(rebuilds, 50);
    const floor = percentile(unchanged, 50);
    const fullP50 = percentile(full, 50);
    return [
      {
        figure: `rebuild after an edit, ${MODULES}-module TypeScript handler (p50 / p95)`,
        value: `${ms(p50)} / ${ms(percentile(rebuilds, 95))} ms`,
        baseline: `esbuild alone, incremental rebuild after the same edit ${ms(floor)} ms`,
        ratio: (p50 / floor).toFixed(2),
        goal: "≤ 5 ms",
        met: p50 <= 5,
        data: {
          p50,
          p95: percentile(rebuilds, 95),
          floorP50: floor,
          fullBuildP50: fullP50,
          // Source files compiled per rebuild (1 when only the edited module was; NaN for bundles).
          compiledPerRebuild: percentile(compiled, 50),
          ...loads,
        },
        load: load(),
      },
      {
        figure: "full esbuild build of the same handler, for scale (p50)",
        value: `${ms(fullP50)} ms`,
        baseline: `rebuild after an edit ${ms(p50)} ms`,
        ratio: (fullP50 / p50).toFixed(2),
        data: { p50: fullP50 },
        load: load(),
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The code of a build: in module mode, every module's compiled code, the handler's among them. */
function handlerCode(build: GoodBuild): string {
  return readFileSync(build.file, "utf8");
}

/** Loads a version in a worker thread, as the pool's workers do (source maps on), and answers in ms. */
const LOADER = `
const { parentPort } = require("node:worker_threads");
const { performance } = require("node:perf_hooks");
parentPort.on("message", (file) => {
  delete require.cache[file];
  const started = performance.now();
  require(file);
  parentPort.postMessage(performance.now() - started);
});
`;

/**
 * What a worker's load costs (p50 of 15, interleaved, in one warm thread): the latest version — in
 * module mode its modules compiled one by one — against the bundle of the same code.
 */
async function measureLoads(
  builder: FunctionBuilder,
  floorContext: esbuild.BuildContext<{ metafile: true; write: false }>,
  dir: string,
): Promise<Record<string, number>> {
  const latest = await builder.ready();
  if (!latest.ok) throw new Error(latest.error);
  const output = await floorContext.rebuild();
  const bundle = path.join(dir, "floor", "index.cjs");
  await mkdir(path.dirname(bundle), { recursive: true });
  await writeFile(bundle, output.outputFiles[0].contents);
  const worker = new Worker(LOADER, { eval: true, execArgv: ["--enable-source-maps"] });
  try {
    const loadOnce = (file: string) =>
      new Promise<number>((resolve, reject) => {
        worker.once("error", reject);
        worker.once("message", (took: number) => {
          worker.off("error", reject);
          resolve(took);
        });
        worker.postMessage(file);
      });
    const version: number[] = [];
    const bundled: number[] = [];
    for (let i = 0; i < 15; i++) {
      version.push(await loadOnce(latest.file));
      bundled.push(await loadOnce(bundle));
    }
    return { workerLoadP50: percentile(version, 50), bundleLoadP50: percentile(bundled, 50) };
  } finally {
    await worker.terminate();
  }
}
