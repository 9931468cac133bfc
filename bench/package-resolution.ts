/**
 * What resolving packages from the importer's folder costs a rebuild (cli/runtime/package-resolution.ts):
 * the same handler — 10 modules with 10 bare imports each — with its packages found from the build's
 * folder (plain externals) and with all of them in the handler's own node_modules, as pnpm lays them out
 * (each import resolved by the plugin on every rebuild).
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FunctionBuilder } from "../cli/runtime/builder";
import { ms, percentile, type Row } from "./stats";

const PACKAGES = [
  "ws",
  "mqtt",
  "chokidar",
  "aedes",
  "esbuild",
  "@aws-sdk/client-sts",
  "@aws-sdk/client-lambda",
  "fast-check",
  "typescript",
  "prettier",
];
const MODULES = 10;
const EDITS = 40;

async function rebuildP50(root: string): Promise<number> {
  const entry = path.join(root, "src/handler.ts");
  const edit = (i: number) =>
    writeFile(entry, `import { f0 } from "./m0";\nexport const handler = async () => [f0(), ${i}];\n`);
  await edit(0);
  const builder = new FunctionBuilder({
    name: "bench",
    entry,
    exportName: "handler",
    outDir: path.join(root, ".pulumi-live/build/bench"),
    watch: false,
    cwd: root,
  });
  await builder.start();
  const times: number[] = [];
  try {
    for (let i = 1; i <= EDITS; i++) {
      await edit(i);
      times.push((await builder.rebuild()).durationMs);
    }
  } finally {
    await builder.dispose();
  }
  return percentile(times, 50);
}

export async function benchPackageResolution(): Promise<Row[]> {
  const root = await mkdtemp(path.join(tmpdir(), "pulumi-live-bench-packages-"));
  const repoModules = path.join(__dirname, "..", "..", "node_modules");
  try {
    await mkdir(path.join(root, "src"), { recursive: true });
    await symlink(repoModules, path.join(root, "node_modules"), "dir");
    for (let i = 0; i < MODULES; i++) {
      const imports = PACKAGES.map((name, j) => `import * as p${j} from "${name}";`).join("\n");
      const next = i + 1 < MODULES ? `export * from "./m${i + 1}";\n` : "";
      const uses = PACKAGES.map((_, j) => `typeof p${j}`).join(", ");
      await writeFile(
        path.join(root, `src/m${i}.ts`),
        `${imports}\nexport const f${i} = () => [${uses}];\n${next}`,
      );
    }
    const plain: number[] = [];
    const local: number[] = [];
    const own = path.join(root, "src/node_modules");
    for (let round = 0; round < 3; round++) {
      await rm(own, { recursive: true, force: true });
      plain.push(await rebuildP50(root));
      await mkdir(path.join(own, "@aws-sdk"), { recursive: true });
      for (const name of PACKAGES) await symlink(path.join(repoModules, name), path.join(own, name), "dir");
      local.push(await rebuildP50(root));
    }
    const [p, l] = [percentile(plain, 50), percentile(local, 50)];
    return [
      {
        figure: `rebuild with ${MODULES * PACKAGES.length} bare imports in the handler's own node_modules (pnpm layout, p50)`,
        value: `${ms(l)} ms`,
        baseline: `the same packages found from the build's folder ${ms(p)} ms`,
        ratio: (l / p).toFixed(2),
      },
    ];
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
