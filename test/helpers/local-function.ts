import type { ExecutionContext } from "ava";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalFunction, type LocalFunctionOptions } from "../../cli/local/environments";

/**
 * A LocalFunction named `api` serving `source` (CommonJS, export `handler`) from a temporary folder;
 * closed and removed when the test ends.
 */
export async function localFunctionOf(
  t: ExecutionContext,
  source: string,
  options: Partial<LocalFunctionOptions> = {},
): Promise<LocalFunction> {
  const dir = await mkdtemp(join(tmpdir(), "pulumi-live-env-"));
  await writeFile(join(dir, "index.js"), source);
  const fn = new LocalFunction({
    name: "api",
    handlerFile: join(dir, "index.js"),
    handlerExport: "handler",
    ...options,
  });
  t.teardown(async () => {
    await fn.close();
    await rm(dir, { recursive: true, force: true });
  });
  return fn;
}
