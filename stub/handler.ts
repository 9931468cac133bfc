import { randomBytes } from "node:crypto";
import { STUB_ENV } from "../protocol";
import { readStubConfig } from "./config";
import type { Context } from "aws-lambda";
import type { ResponseStreamLike } from "./exchange";
import { createRelay, relayFailure, relayFailureStream, type Relay } from "./relay";
import { RelayError } from "./relay-error";

/** This execution environment's id: module state lives exactly as long as the environment. */
const envId = randomBytes(6).toString("hex");
let relay: Relay | undefined;

function currentRelay(): Relay {
  relay ??= createRelay(readStubConfig(process.env), { envId, baseDir: __dirname });
  return relay;
}

// Connect during Lambda's init phase, in parallel with the first invocation's arrival. A bad
// configuration is reported by that invocation instead, where its message reaches the caller.
try {
  currentRelay();
} catch {
  // reported below
}

/** The handler of a function that does not stream. */
async function bufferedHandler(event: unknown, context: Context): Promise<unknown> {
  context.callbackWaitsForEmptyEventLoop = false;
  let current: Relay;
  try {
    current = currentRelay();
  } catch (error) {
    if (error instanceof RelayError) return relayFailure(event, error);
    throw error;
  }
  return current.handle(event, context);
}

/** The handler of a function that streams its response: the stub is a streaming handler too. */
async function streamingHandler(
  event: unknown,
  responseStream: ResponseStreamLike,
  context: Context,
): Promise<void> {
  context.callbackWaitsForEmptyEventLoop = false;
  let current: Relay;
  try {
    current = currentRelay();
  } catch (error) {
    if (error instanceof RelayError) return relayFailureStream(event, error, responseStream);
    throw error;
  }
  return current.handleStream(event, responseStream, context);
}

type Streamify = <H>(handler: H) => H;

/**
 * The Lambda handler deployed in live mode (`index.handler`): a streaming handler when the component
 * says the function streams (Lambda's runtime reads that off the handler when it loads it).
 */
export const handler =
  process.env[STUB_ENV.streaming] === "true" ? streamify()(streamingHandler) : bufferedHandler;

function streamify(): Streamify {
  const awslambda = (globalThis as { awslambda?: { streamifyResponse?: Streamify } }).awslambda;
  if (typeof awslambda?.streamifyResponse !== "function") {
    throw new Error(
      `${STUB_ENV.streaming} is set, but this runtime has no awslambda.streamifyResponse: response ` +
        "streaming needs a Node.js runtime of Lambda (nodejs18.x or later).",
    );
  }
  return awslambda.streamifyResponse;
}
