/**
 * How Lambda's Node.js runtime loads a handler (`UserFunction.js` of aws-lambda-nodejs-runtime-interface-
 * client): which file a handler string names, how it is imported and the errors it fails with. Part of
 * the runtime core (`lambda-runtime.ts`). Node.js built-ins only.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { installAwsLambdaGlobal } from "./awslambda";
import { moduleFormat } from "./handler";
import type { LambdaError } from "./lambda-error";
import { describe, handlerError, isFrame, runtimeError, type LambdaHandler } from "./lambda-runtime";

// Kept out of esbuild's sight (this module is bundled into the stub): a real import() at run time.
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a constant body, no input is evaluated
const dynamicImport = new Function("specifier", "return import(specifier)") as (
  specifier: string,
) => Promise<Record<string, unknown>>;

/**
 * Loads a module file in the format Node gives it, failing as Lambda's loader does: a syntax error is
 * `Runtime.UserCodeSyntaxError`, a missing CommonJS module `Runtime.ImportModuleError`, anything else is
 * thrown as it is (an ES module's missing package stays a plain `Error`, as on Lambda). The module finds
 * the `awslambda` global (`streamifyResponse`, `HttpResponseStream`) defined, as on Lambda.
 */
export async function loadModule(file: string, format = moduleFormat(file)): Promise<unknown> {
  // Lambda's loader defines `awslambda` before it loads the handler's module.
  installAwsLambdaGlobal();
  try {
    return format === "esm" ? await dynamicImport(pathToFileURL(file).href) : require(file);
  } catch (error) {
    throw importError(error);
  }
}

/**
 * Finds a handler module the way Lambda's loader does for `_HANDLER` `path/module.export`: the file
 * without an extension, `.js`, `.mjs`, then `.cjs`. Undefined when there is none.
 */
export function findLambdaModule(root: string, modulePath: string): string | undefined {
  const base = path.resolve(root, modulePath);
  return ["", ".js", ".mjs", ".cjs"].map((ext) => base + ext).find((file) => existsSync(file));
}

/**
 * The handler in a loaded module: `handlerPath` may reach nested exports (`a.b`), as on Lambda.
 * @param handlerName `module.export` as the errors name it.
 * @throws LambdaError `Runtime.HandlerNotFound`
 */
export function handlerExport(module: unknown, handlerPath: string, handlerName: string): LambdaHandler {
  const found = handlerPath
    .split(".")
    .reduce<unknown>(
      (nested, key) => (nested ? (nested as Record<string, unknown>)[key] : undefined),
      module,
    );
  if (!found)
    throw runtimeErrorShape("Runtime.HandlerNotFound", `${handlerName} is undefined or not exported`);
  if (typeof found !== "function") {
    throw runtimeErrorShape("Runtime.HandlerNotFound", `${handlerName} is not a function`);
  }
  return found as LambdaHandler;
}

/** Whether a value thrown by {@link loadModule} or {@link handlerExport} is already in Lambda's shape. */
export function isLambdaError(value: unknown): value is LambdaError {
  const e = value as Partial<LambdaError> | undefined;
  return typeof e?.errorType === "string" && typeof e.errorMessage === "string" && Array.isArray(e.trace);
}

/**
 * Splits a handler string as Lambda does: `path/to/module.a.b` is module `path/to/module` (the module
 * name ends at the first dot of the last path segment) and export path `a.b`. Undefined without a dot.
 */
export function splitLambdaHandler(handler: string): { modulePath: string; handlerPath: string } | undefined {
  const slash = handler.lastIndexOf("/");
  const dot = handler.indexOf(".", slash + 1);
  if (dot < 0) return undefined;
  return { modulePath: handler.slice(0, dot), handlerPath: handler.slice(dot + 1) };
}

/** A load's error as Lambda's loader reports it: syntax and missing-module errors wrapped, others as they are. */
export function importError(error: unknown): unknown {
  if (error instanceof SyntaxError) return wrapped("Runtime.UserCodeSyntaxError", error);
  if ((error as { code?: unknown } | undefined)?.code === "MODULE_NOT_FOUND") {
    return wrapped("Runtime.ImportModuleError", error);
  }
  return error;
}

/** Lambda wraps loader errors: the new error's message is the cause as text (`Error: Cannot find ...`). */
function wrapped(errorType: string, cause: unknown): LambdaError {
  const error = runtimeError(errorType, String(describe(cause)));
  const causeFrames = cause instanceof Error && cause.stack ? cause.stack.split("\n").filter(isFrame) : [];
  const shape = handlerError(error);
  return { ...shape, trace: [...shape.trace.filter((line) => !isFrame(line)), ...causeFrames] };
}

function runtimeErrorShape(errorType: string, errorMessage: string): LambdaError {
  return { errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`] };
}
