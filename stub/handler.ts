import { randomBytes } from "node:crypto";
import { readStubConfig } from "./config";
import type { Context } from "aws-lambda";
import { createRelay, relayFailure, type Relay } from "./relay";
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

/** The Lambda handler deployed in live mode (`index.handler`). */
export async function handler(event: unknown, context: Context): Promise<unknown> {
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
