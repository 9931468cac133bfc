import type { Context } from "aws-lambda";
import type { InvocationContext } from "../protocol";

/**
 * The parts of Lambda's Node.js `context` object (@types/aws-lambda's `Context`) the stub reads: the
 * fields that travel, plus the runtime's own. A type only: nothing of it is in the bundle.
 */
export type LambdaContext = Pick<
  Context,
  | "awsRequestId"
  | "functionName"
  | "functionVersion"
  | "invokedFunctionArn"
  | "memoryLimitInMB"
  | "logGroupName"
  | "logStreamName"
  | "getRemainingTimeInMillis"
> &
  Partial<Pick<Context, "callbackWaitsForEmptyEventLoop" | "identity" | "clientContext">>;

/** Copies what the local handler's `context` is rebuilt from; functions and runtime flags stay behind. */
export function invocationContext(context: LambdaContext): InvocationContext {
  const copy: InvocationContext = {
    awsRequestId: context.awsRequestId,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: String(context.memoryLimitInMB),
    logGroupName: context.logGroupName,
    logStreamName: context.logStreamName,
  };
  if (context.identity !== undefined) copy.identity = context.identity;
  if (context.clientContext !== undefined) copy.clientContext = context.clientContext;
  return copy;
}
