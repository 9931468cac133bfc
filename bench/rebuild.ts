import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import * as esbuild from "esbuild";
import { FunctionBuilder, type BuildResult } from "../cli/runtime/builder";
import { ms, percentile, type Row } from "./stats";

const MODULES = 50;

/** A TypeScript handler importing a chain of 50 modules with types, classes and generics. */
async function writeProject(dir: string): Promise<string> {
  await mkdir(path.join(dir, "src/lib"), { recursive: true });
  for (let i = 0; i < MODULES; i++) {
    const next = i + 1 < MODULES ? `import { step${i + 1} } from "./m${i + 1}";` : "";
    const call = i + 1 < MODULES ? `step${i + 1}(input + 1)` : "input";
    await writeFile(
      path.join(dir, `src/lib/m${i}.ts`),
      `${next}
export interface Shape${i} { id: number; label: string; tags: readonly string[] }
export class Box${i}<T> { constructor(readonly value: T) {} map<U>(f: (v: T) => U): Box${i}<U> { return new Box${i}(f(this.value)); } }
export function step${i}(input: number): number {
  const shape: Shape${i} = { id: input, label: "m${i}", tags: ["a", "b"] };
  return new Box${i}(shape).map((s) => s.id).value + ${call} * 0;
}
`,
    );
  }
  const entry = path.join(dir, "src/handler.ts");
  await writeFile(
    entry,
    `import { step0 } from "./lib/m0";\nexport const handler = async () => ({ value: step0(1), edit: 0 });\n`,
  );
  return entry;
}

/**
 * Rebuild after an edit (incremental esbuild context) against a full build of the same project in the
 * same process, and the time from writing the file to the new build being ready (chokidar + rebuild).
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
    const rebuilds: number[] = [];
    const editToBuild: number[] = [];
    const full: number[] = [];
    for (let i = 1; i <= rounds; i++) {
      // The first good build that holds this edit (a build already running may not).
      const built = new Promise<BuildResult>((resolve) => {
        onBuild = (r) => {
          if (r.ok && readFileSync(r.file, "utf8").includes(`edit: ${i}`)) resolve(r);
        };
      });
      const t0 = performance.now();
      await writeFile(
        entry,
        `import { step0 } from "./lib/m0";\nexport const handler = async () => ({ value: step0(1), edit: ${i}${" ".repeat(i % 3)} });\n`,
      );
      const result = await built;
      editToBuild.push(performance.now() - t0);
      rebuilds.push(result.durationMs);
      onBuild = undefined;
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
    // esbuild's floor: a rebuild of the same context with nothing changed.
    const unchanged: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const result = await builder.rebuild();
      unchanged.push(result.durationMs);
    }
    await builder.dispose();
    const p50 = percentile(rebuilds, 50);
    const floor = percentile(unchanged, 50);
    const fullP50 = percentile(full, 50);
    return [
      {
        figure: `rebuild after an edit, ${MODULES}-module TypeScript handler (p50 / p95)`,
        value: `${ms(p50)} / ${ms(percentile(rebuilds, 95))} ms`,
        baseline: `full esbuild build ${ms(fullP50)} ms`,
        ratio: (p50 / fullP50).toFixed(2),
        goal: "≤ 10 ms",
      },
      {
        figure: "rebuild with nothing changed (esbuild's incremental floor, p50)",
        value: `${ms(floor)} ms`,
        baseline: `rebuild after an edit ${ms(p50)} ms`,
        ratio: (floor / p50).toFixed(2),
      },
      {
        figure: "edit on disk → new build ready (chokidar + rebuild, p50 / p95)",
        value: `${ms(percentile(editToBuild, 50))} / ${ms(percentile(editToBuild, 95))} ms`,
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
