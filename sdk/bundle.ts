import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as esbuild from "esbuild";
import * as pulumi from "@pulumi/pulumi";
import { ESM_REQUIRE_BANNER } from "../core/handler";
import type { Problems } from "./errors";
import type { HandlerSource } from "./handler-source";

/** The esbuild options a `LiveFunction` passes through. */
export interface BundleOptions {
  /** Packages left out of the bundle (present in a layer or the runtime), e.g. `["@aws-sdk/*"]`. */
  external?: string[];
  /** esbuild loaders by extension, e.g. `{ ".html": "text" }`. */
  loader?: Record<string, esbuild.Loader>;
  /** Text put at the top of the bundle. */
  banner?: string;
  /** @default true */
  minify?: boolean;
  /** Ship a source map next to the bundle. @default true */
  sourcemap?: boolean;
}

const BUNDLE_KEYS = ["external", "loader", "banner", "minify", "sourcemap"];

/** Records a problem for every `bundle` option this component does not pass on to esbuild. */
export function checkBundleOptions(options: unknown, problems: Problems): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    problems.add(
      "bundle",
      `must be an object, got ${JSON.stringify(options)}.`,
      `Pass { ${BUNDLE_KEYS.join(", ")} }.`,
    );
    return;
  }
  for (const key of Object.keys(options)) {
    if (!BUNDLE_KEYS.includes(key)) {
      problems.add("bundle", `has an unknown option "${key}".`, `Use only ${BUNDLE_KEYS.join(", ")}.`);
    }
  }
}

/** A finished bundle: archive-relative file names to contents, and the Lambda handler that runs it. */
export interface Bundle {
  files: Record<string, Buffer>;
  /** `index.handler` */
  handler: string;
  /** The entry file name (`index.js` or `index.mjs`). */
  entry: string;
}

/** `nodejs22.x` → `node22`, the esbuild target for a Lambda runtime. */
export function esbuildTarget(runtime: string): string {
  const m = /^nodejs(\d+)\.x$/.exec(runtime);
  return m ? `node${m[1]}` : "node20";
}

/**
 * Bundles a handler with esbuild, deterministically: no timestamps, paths relative to the project root,
 * so the same source gives the same bytes. `format` overrides the source's own (the fallback copy is
 * always CommonJS so the stub can `require` it). Problems (bad options, build errors, a missing export)
 * are recorded, not thrown.
 */
export function bundleHandler(
  source: HandlerSource,
  options: BundleOptions | undefined,
  root: string,
  target: string,
  problems: Problems,
  format: "cjs" | "esm" = source.format,
): Bundle | undefined {
  const entryExt = format === "esm" ? ".mjs" : ".js";
  const outdir = path.join(root, ".pulumi-live", "bundle");
  const banner = [format === "esm" ? ESM_REQUIRE_BANNER : "", options?.banner ?? ""]
    .filter(Boolean)
    .join("\n");
  const base: esbuild.BuildOptions = {
    absWorkingDir: root,
    entryPoints: { index: source.file },
    outdir,
    bundle: true,
    platform: "node",
    target,
    external: options?.external,
    loader: options?.loader,
    metafile: true,
    write: false,
    logLevel: "silent",
  };
  const result = runEsbuild(source, problems, {
    ...base,
    outExtension: { ".js": entryExt },
    format,
    minify: options?.minify ?? true,
    sourcemap: (options?.sourcemap ?? true) ? "linked" : false,
    banner: banner ? { js: banner } : undefined,
  });
  if (!result) return undefined;
  // esbuild lists an entry's exports only for ESM output: check a CommonJS bundle of ESM source on an
  // unminified ESM build of the same entry.
  const inputFormat = Object.entries(result.metafile.inputs).find(
    ([f]) => path.resolve(root, f) === source.file,
  )?.[1].format;
  if (inputFormat === "esm") {
    const checked = format === "esm" ? result : runEsbuild(source, problems, { ...base, format: "esm" });
    if (checked) checkExport(source, checked.metafile, problems);
  }
  const files: Record<string, Buffer> = {};
  for (const out of result.outputFiles) {
    files[path.relative(outdir, out.path).split(path.sep).join("/")] = Buffer.from(out.contents);
  }
  return { files, handler: "index.handler", entry: `index${entryExt}` };
}

type BuildOutput = esbuild.BuildResult<{ write: false; metafile: true }>;

function runEsbuild(
  source: HandlerSource,
  problems: Problems,
  options: esbuild.BuildOptions,
): BuildOutput | undefined {
  try {
    return esbuild.buildSync(options);
  } catch (error) {
    const found = (error as { errors?: esbuild.Message[] }).errors;
    const messages = found?.length ? found.map(formatMessage) : [(error as Error).message];
    problems.add(
      "bundle",
      `esbuild could not bundle ${source.relative}: ${messages.join("; ")}.`,
      "Fix the source or the `bundle` options (external, loader, banner, minify, sourcemap).",
    );
    return undefined;
  }
}

function formatMessage(message: esbuild.Message): string {
  const where = message.location ? `${message.location.file}:${message.location.line}: ` : "";
  return `${where}${message.text}`;
}

/** Records a problem when an ESM source lacks the handler's export. */
function checkExport(source: HandlerSource, metafile: esbuild.Metafile, problems: Problems): void {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined);
  const exports = output?.exports ?? [];
  if (exports.includes(source.exportName)) return;
  problems.add(
    "handler",
    `${path.basename(source.file)} has no export "${source.exportName}"` +
      (exports.length ? ` (it exports ${exports.join(", ")}).` : "."),
    `Export a function named "${source.exportName}" or fix the name after the last dot of "handler".`,
  );
}

/** A Pulumi archive of files; contents are what Pulumi hashes, so equal bundles give equal archives. */
export function archiveOf(files: Record<string, Buffer>): pulumi.asset.AssetArchive {
  const assets: Record<string, pulumi.asset.Asset> = {};
  for (const name of Object.keys(files).sort()) assets[name] = assetOf(files[name]);
  return new pulumi.asset.AssetArchive(assets);
}

function assetOf(contents: Buffer): pulumi.asset.Asset {
  const text = contents.toString("utf8");
  if (Buffer.from(text, "utf8").equals(contents)) return new pulumi.asset.StringAsset(text);
  // Binary output (a `file` or `copy` loader): a content-addressed file, still hashed by content.
  const file = path.join(
    os.tmpdir(),
    "pulumi-live-assets",
    createHash("sha256").update(contents).digest("hex"),
  );
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (!fs.existsSync(file)) fs.writeFileSync(file, contents);
  return new pulumi.asset.FileAsset(file);
}
