/** Why the stub could not relay an invocation. */
export type RelayErrorCode =
  | "Config"
  | "NoConnection"
  | "NoSession"
  | "NoAck"
  | "SessionEnded"
  | "Timeout"
  | "PublishFailed"
  | "Fallback"
  | "CallerGone";

/**
 * An error of the relay itself (never of the user's handler). Its name, `PulumiLive.<code>`, is what
 * Lambda reports as the error type, so it shows in logs, retries and DLQs as the stub's.
 */
export class RelayError extends Error {
  constructor(
    readonly code: RelayErrorCode,
    message: string,
  ) {
    super(message);
    this.name = `PulumiLive.${code}`;
  }
}
