import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import * as esbuild from "esbuild";
import { FunctionBuilder, type BuildResult } from "../cli/runtime/builder";
import { handlerSource, MODULES, writeProject } from "./project";
import { load, ms, percentile, type Row } from "./stats";

/**
 * Rebuild after an edit (what the builder does, from the change to the new version on disk) against
 * esbuild's floor — an incremental esbuild context of its own, with the builder's options, rebuilt after
 * the same edit — and a full build of the same project, interleaved in the same process.
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
    const unchanged: number[] = [];
    const full: number[] = [];
    // Interleaved, so that the machine's load weighs on the three alike.
    for (let i = 1; i <= rounds; i++) {
      // The first good build that holds this edit (a build already running may not).
      const built = new Promise<BuildResult>((resolve) => {
        onBuild = (r) => {
          if (r.ok && /edit: (\d+)/.exec(readFileSync(r.file, "utf8"))?.[1] === String(i)) resolve(r);
        };
      });
      await writeFile(entry, handlerSource(i));
      const result = await built;
      rebuilds.push(result.durationMs);
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
        data: { p50, p95: percentile(rebuilds, 95), floorP50: floor, fullBuildP50: fullP50 },
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
