import { resolve } from "node:path";
import { STUB_ENV } from "../protocol";
import { invokeHandler, type LambdaHandler } from "../core/lambda-runtime";
import {
  findLambdaModule,
  handlerExport,
  isLambdaError,
  loadModule,
  splitLambdaHandler,
} from "../core/lambda-loader";
import { fromLambdaError } from "../core/lambda-error";
import { invocationContext, type LambdaContext } from "./lambda-context";
import { RelayError } from "./relay-error";

export type { LambdaHandler } from "../core/lambda-runtime";

/**
 * Loads the handler named `file.export` (Lambda's own notation), relative to `baseDir`: the real code
 * shipped next to the stub, run when no session is serving. A file or export that is not there is a
 * deployment problem (`PulumiLive.Fallback`); an error while importing it is the function's own, thrown
 * as Lambda's runtime would report it.
 */
export async function loadFallback(baseDir: string, spec: string): Promise<LambdaHandler> {
  // The stub's configuration checked the spec's shape: it has a dot.
  const { modulePath, handlerPath: name } = splitLambdaHandler(spec) ?? { modulePath: spec, handlerPath: "" };
  const file = findLambdaModule(baseDir, modulePath);
  if (!file) {
    throw new RelayError(
      "Fallback",
      `${STUB_ENV.fallback} names "${spec}", but ${resolve(baseDir, modulePath)} could not be loaded: there is no such file. ` +
        "Redeploy the function with `pulumi up`.",
    );
  }
  let module: unknown;
  try {
    module = await loadModule(file);
  } catch (error) {
    throw isLambdaError(error) ? fromLambdaError(error) : error;
  }
  try {
    return handlerExport(module, name, spec);
  } catch {
    throw new RelayError(
      "Fallback",
      `${STUB_ENV.fallback} names "${spec}", but ${file} has no exported function "${name}". ` +
        "Redeploy the function with `pulumi up`.",
    );
  }
}

/**
 * Runs a handler through the runtime core, as Lambda's Node.js runtime would: its result is returned and
 * its error thrown as they are, for Lambda's own runtime (which runs the stub) to report. The stub's MQTT
 * connection keeps the event loop busy, so no answer here waits for it to empty.
 */
export async function runHandler(
  handler: LambdaHandler,
  event: unknown,
  context: LambdaContext,
): Promise<unknown> {
  const completion = await invokeHandler(handler, event, invocationContext(context), {
    deadline: Date.now() + context.getRemainingTimeInMillis(),
  });
  if (!completion.ok) throw completion.error;
  // Lambda's runtime answers null for undefined; returning null keeps what the caller sees the same.
  return completion.result === undefined ? null : completion.result;
}
