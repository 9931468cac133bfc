/**
 * Writes one stack export of the demo program to a file: `node dist/test/discovery/write-export.js OUT
 * live|off`. Its own process, since `generateStackExport` sets process-global Pulumi mocks.
 */
import { writeFileSync } from "node:fs";
import { generateStackExport } from "../fixtures/stack-export";

/** The fixed session key the exports carry (base64 of 32 bytes of 7). */
export const FIXTURE_KEY = Buffer.alloc(32, 7).toString("base64");
/** The fixed namespace id the exports carry. */
export const FIXTURE_NAMESPACE_ID = "0a1b2c3d4e5f";

if (require.main === module) {
  const [out, mode] = process.argv.slice(2);
  generateStackExport({
    live: mode !== "off",
    sessionKey: FIXTURE_KEY,
    namespaceId: FIXTURE_NAMESPACE_ID,
  }).then(
    (exported) => {
      writeFileSync(out, JSON.stringify(exported, null, 4) + "\n");
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
