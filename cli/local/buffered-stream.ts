/**
 * A streaming handler's bytes gathered for a caller that takes no stream: Lambda's Invoke API answers a
 * streaming function with what it wrote (prelude included), up to the 6 MB of a buffered response, and
 * with `Function.ResponseSizeTooLarge` past it.
 */
import { MAX_RESPONSE_PAYLOAD_BYTES } from "../../protocol/limits";
import { responseTooLargeError } from "../../core/lambda-error";
import type { StreamConsumer } from "../../core/stream-channel";
import type { InvokeResult } from "./invoker";

export class BufferedStream {
  private readonly parts: Buffer[] = [];
  private size = 0;
  private contentType: string | undefined;
  private readonly abort = new AbortController();

  readonly consumer: StreamConsumer = {
    start: (contentType) => (this.contentType = contentType),
    write: async (data) => {
      this.size += data.length;
      // Past the limit the handler's stream is stopped: holding more would serve nobody.
      if (this.size > MAX_RESPONSE_PAYLOAD_BYTES) this.abort.abort();
      else this.parts.push(Buffer.from(data));
    },
    signal: this.abort.signal,
  };

  /** The invocation's result with the gathered bytes as its payload (any other result as it is). */
  result(outcome: InvokeResult): InvokeResult {
    const { streamed, ...rest } = outcome;
    if (this.size > MAX_RESPONSE_PAYLOAD_BYTES) {
      const error = responseTooLargeError(this.size);
      return { ...rest, payload: Buffer.from(JSON.stringify(error)), functionError: "Unhandled" };
    }
    if (!streamed) return outcome;
    return {
      ...rest,
      payload: Buffer.concat(this.parts, this.size),
      ...(this.contentType ? { contentType: this.contentType } : {}),
    };
  }
}
