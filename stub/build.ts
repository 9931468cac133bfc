import { statSync } from "node:fs";
import { join } from "node:path";
import { build, type Plugin } from "esbuild";
import { STUB_BUNDLE } from "../core/names";

/** The TypeScript source; this file runs from dist/stub/, the source stays in stub/. */
const ENTRY = join(__dirname, "../../stub/handler.ts");

/**
 * Packages mqtt.js imports only for browsers (web-worker timers): replaced by an empty module, as they are
 * never called under Node.js and would only add to the bundle's size and load time.
 */
const BROWSER_ONLY = /^worker-timers$/;

const dropBrowserOnly: Plugin = {
  name: "drop-browser-only",
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: BROWSER_ONLY }, (args) => ({
      path: args.path,
      namespace: "browser-only",
    }));
    pluginBuild.onLoad({ filter: /.*/, namespace: "browser-only" }, () => ({
      contents: "module.exports = {};",
    }));
  },
};

/**
 * Bundles the relay stub into `outFile` (default `dist/stub/bundle/index.js`): platform node, CommonJS,
 * minified, everything included but Node's builtins. Returns the file and its size in bytes.
 */
export async function buildStub(outFile: string = STUB_BUNDLE): Promise<{ file: string; bytes: number }> {
  await build({
    entryPoints: [ENTRY],
    outfile: outFile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: true,
    sourcemap: false,
    legalComments: "none",
    logLevel: "warning",
    // ws loads these optional native speed-ups inside try/catch; they are not installed and never needed.
    external: ["bufferutil", "utf-8-validate"],
    // readable-stream (two copies, through mqtt.js and bl) is a userland mirror of Node's own streams;
    // using the builtin halves the bundle and its load time.
    alias: { "readable-stream": "node:stream" },
    plugins: [dropBrowserOnly],
    // The fallback's `require(file)` is resolved at run time on purpose.
    logOverride: { "unsupported-require-call": "silent" },
  });
  return { file: outFile, bytes: statSync(outFile).size };
}

if (require.main === module) {
  buildStub().then(
    ({ file, bytes }) => console.log(`stub bundle: ${file} (${(bytes / 1024).toFixed(1)} KB)`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
