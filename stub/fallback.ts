import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { STUB_ENV } from "../protocol";
import type { LambdaContext } from "./lambda-context";
import { RelayError } from "./relay-error";

/** A Lambda handler: async, or callback style when it declares three parameters. */
export type LambdaHandler = (
  event: unknown,
  context: LambdaContext,
  callback?: (error?: unknown, result?: unknown) => void,
) => unknown;

// Kept out of esbuild's sight: the fallback is a separate file next to the bundle, loaded at run time.
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a constant body, no input is evaluated
const dynamicImport = new Function("specifier", "return import(specifier)") as (
  specifier: string,
) => Promise<Record<string, unknown>>;

/**
 * Loads the handler named `file.export` (Lambda's own notation), relative to `baseDir`: the real code
 * shipped next to the stub, run when no session is serving.
 */
export async function loadFallback(baseDir: string, spec: string): Promise<LambdaHandler> {
  const dot = spec.lastIndexOf(".");
  const file = resolve(baseDir, spec.slice(0, dot));
  const name = spec.slice(dot + 1);
  let module: Record<string, unknown>;
  try {
    module = require(file) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== "ERR_REQUIRE_ESM" && code !== "MODULE_NOT_FOUND") throw fallbackError(spec, file, error);
    try {
      module = await dynamicImport(pathToFileURL(code === "MODULE_NOT_FOUND" ? `${file}.mjs` : file).href);
    } catch {
      throw fallbackError(spec, file, error);
    }
  }
  const handler = module[name] ?? (module.default as Record<string, unknown> | undefined)?.[name];
  if (typeof handler !== "function") {
    throw new RelayError(
      "Fallback",
      `${STUB_ENV.fallback} names "${spec}", but ${file} has no exported function "${name}". ` +
        "Redeploy the function with `pulumi up`.",
    );
  }
  return handler as LambdaHandler;
}

function fallbackError(spec: string, file: string, error: unknown): RelayError {
  return new RelayError(
    "Fallback",
    `${STUB_ENV.fallback} names "${spec}", but ${file} could not be loaded: ${(error as Error).message}. ` +
      "Redeploy the function with `pulumi up`.",
  );
}

/** Runs a handler the way Lambda's Node.js runtime does: awaits its promise, or its callback. */
export function runHandler(handler: LambdaHandler, event: unknown, context: LambdaContext): Promise<unknown> {
  return new Promise((resolvePromise, reject) => {
    let settled = false;
    const callback = (error?: unknown, result?: unknown): void => {
      if (settled) return;
      settled = true;
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- Lambda fails with the value as given
      if (error !== undefined && error !== null) reject(error);
      else resolvePromise(result);
    };
    try {
      const returned = handler(event, context, callback);
      if (returned && typeof (returned as Promise<unknown>).then === "function") {
        (returned as Promise<unknown>).then(
          (result) => callback(null, result),
          (error: unknown) => callback(error ?? new Error("Handler rejected")),
        );
      } else if (handler.length < 3) {
        callback(null, returned);
      }
    } catch (error) {
      callback(error);
    }
  });
}
