import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { MAX_REQUEST_PAYLOAD_BYTES } from "../../protocol/limits";
import { readBoundedBody, send, sendJson } from "./http-io";
import type { Invoker } from "./invoker";
import { requestTooLargeError } from "../../core/lambda-error";

/** What the Invoke API handler needs from the gateway. */
export interface InvokeApiContext {
  functions: Map<string, Invoker>;
  region: string;
  /** Called once per request when its outcome is known (for `Event`, when the background run ends). */
  record(outcome: {
    name: string;
    status: number;
    requestId?: string;
    functionError?: string;
    error?: string;
  }): void;
}

/**
 * The part of an invocation request both Invoke APIs check alike: the function, the body's size and JSON,
 * the invocation type among `types` (as Lambda lists them in its error), a DryRun answered. Undefined when
 * the request was answered here (an error, or the DryRun's 204).
 */
export async function readInvokeRequest(
  req: IncomingMessage,
  res: ServerResponse,
  functionName: string,
  context: InvokeApiContext,
  types: readonly string[],
): Promise<{ name: string; invoker: Invoker; type: string; body: Buffer } | undefined> {
  const name = functionNameOf(functionName);
  const { body, size, tooLarge } = await readBoundedBody(req, MAX_REQUEST_PAYLOAD_BYTES);
  if (tooLarge) {
    const { type, message } = requestTooLargeError(size);
    error(res, context, name, 413, type, message);
    return undefined;
  }
  const invoker = context.functions.get(name);
  if (!invoker) {
    const arn = `arn:aws:lambda:${context.region}:000000000000:function:${name}`;
    error(res, context, name, 404, "ResourceNotFoundException", `Function not found: ${arn}`);
    return undefined;
  }
  const type = header(req, "x-amz-invocation-type") ?? "RequestResponse";
  if (!types.includes(type)) {
    const message = `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [${types.join(", ")}]`;
    error(res, context, name, 400, "InvalidParameterValueException", message);
    return undefined;
  }
  if (type === "DryRun") {
    send(res, 204, { "x-amzn-RequestId": randomUUID() }, Buffer.alloc(0));
    context.record({ name, status: 204 });
    return undefined;
  }
  if (body.length > 0) {
    try {
      JSON.parse(body.toString("utf8"));
    } catch (e) {
      const message = `Could not parse request body into json: ${(e as Error).message}`;
      error(res, context, name, 400, "InvalidRequestContentException", message);
      return undefined;
    }
  }
  return { name, invoker, type, body };
}

/** The Invoke API path: `FunctionName` may be a name, a partial ARN or an ARN, maybe with a qualifier. */
export const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/**
 * Lambda's Invoke API, `POST /2015-03-31/functions/{FunctionName}/invocations`, answered with the
 * status codes, headers and error shapes Lambda uses, so AWS SDK clients work against it unchanged.
 */
export async function handleInvoke(
  req: IncomingMessage,
  res: ServerResponse,
  functionName: string,
  context: InvokeApiContext,
): Promise<void> {
  const request = await readInvokeRequest(req, res, functionName, context, [
    "Event",
    "RequestResponse",
    "DryRun",
  ]);
  if (!request) return;
  const { name, invoker, type, body } = request;
  const requestId = randomUUID();
  if (type === "Event") {
    send(res, 202, { "x-amzn-RequestId": requestId }, Buffer.alloc(0));
    invoker.invoke(body, { tail: false, requestId }).then(
      (result) => context.record({ name, status: 202, requestId, functionError: result.functionError }),
      (e: Error) => context.record({ name, status: 202, requestId, error: e.message }),
    );
    return;
  }
  const tail = header(req, "x-amz-log-type") === "Tail";
  let result;
  try {
    result = await invoker.invoke(body, { tail, requestId });
  } catch (e) {
    return error(res, context, name, 500, "ServiceException", (e as Error).message, "Service");
  }
  const headers: Record<string, string> = {
    // A streaming function's bytes, gathered, keep the type its stream declared.
    "Content-Type": result.functionError ? "application/json" : (result.contentType ?? "application/json"),
    "x-amzn-RequestId": result.requestId,
    "X-Amz-Executed-Version": "$LATEST",
  };
  if (result.functionError) headers["X-Amz-Function-Error"] = result.functionError;
  if (tail) headers["X-Amz-Log-Result"] = Buffer.from(result.logTail ?? "").toString("base64");
  send(res, 200, headers, result.payload);
  context.record({ name, status: 200, requestId: result.requestId, functionError: result.functionError });
}

/** `name`, `name:alias`, `123456789012:function:name`, `arn:aws:lambda:r:a:function:name[:alias]` → name. */
export function functionNameOf(raw: string): string {
  let name = raw;
  try {
    name = decodeURIComponent(raw);
  } catch {
    // Not percent-encoded after all.
  }
  const at = name.indexOf(":function:");
  if (at >= 0) name = name.slice(at + ":function:".length);
  return name.split(":")[0];
}

/** AWS's JSON error shape; the SDK reads the type from `x-amzn-ErrorType`. */
export function error(
  res: ServerResponse,
  context: InvokeApiContext,
  name: string,
  status: number,
  type: string,
  message: string,
  kind: "User" | "Service" = "User",
): void {
  const requestId = randomUUID();
  sendJson(res, status, { Type: kind, message }, { "x-amzn-ErrorType": type, "x-amzn-RequestId": requestId });
  context.record({ name, status, requestId, error: `${type}: ${message}` });
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
