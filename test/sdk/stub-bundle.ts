import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { STUB_BUNDLE } from "../../core/names";

/**
 * The relay stub bundle the component ships in live mode. Built by `npm run build`; when a test runs
 * before that, it builds it, or (no stub build script yet) writes a labelled test double.
 */
export function ensureStubBundle(): Buffer {
  if (!fs.existsSync(STUB_BUNDLE)) {
    const build = path.join(path.dirname(STUB_BUNDLE), "..", "build.js");
    if (fs.existsSync(build)) {
      execFileSync(process.execPath, [build], { stdio: "ignore" });
    } else {
      fs.mkdirSync(path.dirname(STUB_BUNDLE), { recursive: true });
      fs.writeFileSync(
        STUB_BUNDLE,
        "// TEST DOUBLE written by test/sdk/stub-bundle.ts; `npm run build` replaces it with the relay stub.\n" +
          'exports.handler = async () => { throw new Error("relay stub test double"); };\n',
      );
    }
  }
  return fs.readFileSync(STUB_BUNDLE);
}

/** The text of each file in a wire-form archive input. */
export function archiveTexts(code: any): Record<string, string> {
  return Object.fromEntries(
    Object.entries(code.assets).map(([name, asset]: [string, any]) => [name, asset.text]),
  );
}
