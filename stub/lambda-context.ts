import type { InvocationContext } from "../protocol";

/**
 * The parts of Lambda's Node.js `context` object the stub reads (no dependency on @types/aws-lambda): the
 * fields that travel, plus the runtime's own.
 */
export interface LambdaContext extends InvocationContext {
  callbackWaitsForEmptyEventLoop?: boolean;
  getRemainingTimeInMillis(): number;
}

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
