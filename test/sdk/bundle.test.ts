import test from "ava";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { archiveOf, bundleHandler } from "../../sdk/bundle";
import { Problems } from "../../sdk/errors";
import { resolveHandler } from "../../sdk/handler-source";

function project(t: { teardown(fn: () => void): void }, files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-live-bundle-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

async function archiveTexts(archive: pulumi.asset.AssetArchive): Promise<Record<string, string>> {
  const assets = (await archive.assets) as Record<string, pulumi.asset.StringAsset>;
  const entries = Object.entries(assets).map(async ([name, asset]) => [name, await asset.text] as const);
  return Object.fromEntries(await Promise.all(entries));
}

function build(root: string, handler: string, options?: Parameters<typeof bundleHandler>[1]) {
  const problems = new Problems();
  const source = resolveHandler(handler, root, problems)!;
  const bundle = bundleHandler(source, options, root, "node22", problems);
  return { source, bundle, problems: problems.list };
}

test("the same source gives the same bytes, independent of file times", async (t) => {
  const root = project(t, { "src/api.ts": "export const handler = async () => ({ ok: 1 });\n" });
  const first = build(root, "src/api.handler");
  fs.utimesSync(path.join(root, "src/api.ts"), new Date(0), new Date(0));
  const second = build(root, "src/api.handler");
  t.deepEqual(first.problems, []);
  t.deepEqual(Object.keys(first.bundle!.files), ["index.js.map", "index.js"]);
  t.deepEqual(second.bundle!.files, first.bundle!.files);
  t.deepEqual(
    await archiveTexts(archiveOf(first.bundle!.files)),
    await archiveTexts(archiveOf(second.bundle!.files)),
  );
  t.is(first.source.relative, "src/api.handler");
  t.is(first.source.format, "cjs");
});

test("format follows the source: .mts and type:module give ESM (index.mjs), exports are checked", (t) => {
  const root = project(t, {
    "a/api.mts": "export async function handler() { return 1; }\n",
    "b/package.json": '{ "type": "module" }',
    "b/api.js": "export const main = async () => 2;\n",
  });
  const a = build(root, "a/api.handler", { sourcemap: false, minify: false });
  t.deepEqual(Object.keys(a.bundle!.files), ["index.mjs"]);
  t.regex(a.bundle!.files["index.mjs"].toString(), /export \{\s*handler\s*\}/);
  t.is(a.source.format, "esm");
  const b = build(root, "b/api.handler");
  t.is(b.source.format, "esm");
  t.deepEqual(b.problems, [
    {
      option: "handler",
      message: 'api.js has no export "handler" (it exports main).',
      fix: 'Export a function named "handler" or fix the name after the last dot of "handler".',
    },
  ]);
});

test("bundle options reach esbuild: external, loader, banner, minify", (t) => {
  const root = project(t, {
    "api.ts":
      'import page from "./page.html";\nimport dep from "left-out";\nexport const handler = () => page + dep;\n',
    "page.html": "<p>hi</p>",
  });
  const { bundle, problems } = build(root, "api.handler", {
    external: ["left-out"],
    loader: { ".html": "text" },
    banner: "/* banner */",
    minify: false,
    sourcemap: false,
  });
  t.deepEqual(problems, []);
  const text = bundle!.files["index.js"].toString();
  t.true(text.startsWith("/* banner */\n"));
  t.true(text.includes('require("left-out")'));
  t.true(text.includes('"<p>hi</p>"'));
});
