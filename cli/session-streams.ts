/**
 * The streamed answers a session is sending, by request id: each request that offers a stream gets a
 * {@link StreamSender}, and the stub's `stream-credit` and `stream-cancel` messages (on the request
 * topic) reach it here, checked against the environment that asked.
 */
import {
  MAX_STREAMED_RESPONSE_BYTES,
  type RequestMessage,
  type StreamCancelMessage,
  type StreamCreditMessage,
} from "../protocol";
import { StreamSender } from "./stream-sender";

export interface SessionStreamsOptions {
  key: Buffer;
  sessionId: string;
  publish(topic: string, frame: Buffer): Promise<void>;
  /** Deflate chunks that shrink: for AWS IoT Core, whose bandwidth is capped and metered. */
  compress: boolean;
}

interface Active {
  sender: StreamSender;
  request: Pick<RequestMessage, "functionId" | "envId">;
}

export class SessionStreams {
  private readonly active = new Map<string, Active>();

  constructor(private readonly options: SessionStreamsOptions) {}

  /** Streams being sent now. */
  get size(): number {
    return this.active.size;
  }

  /** A sender for a request that offers a stream; undefined for one that does not. */
  open(request: RequestMessage): StreamSender | undefined {
    const window = request.stream?.window;
    if (typeof window !== "number" || !(window >= 1)) return undefined;
    const sender = new StreamSender({
      key: this.options.key,
      requestId: request.requestId,
      sessionId: this.options.sessionId,
      topic: request.responseTopic,
      window,
      publish: (frame) => this.options.publish(request.responseTopic, frame),
      compress: this.options.compress,
      maxBytes: MAX_STREAMED_RESPONSE_BYTES,
    });
    this.active.set(request.requestId, { sender, request });
    return sender;
  }

  /** The stream of `requestId` is over, or never started. */
  close(requestId: string): void {
    this.active.delete(requestId);
  }

  /**
   * Ends the stream of `requestId` with the handler's outcome. The handler may be done long before its
   * bytes are (they wait for the stub's credits), so the stream stays here, where credits reach it, until
   * its end is published; at the request's deadline it is given up, as the stub has given up on it then.
   * Resolves with whether the end went out.
   */
  async finish(
    requestId: string,
    outcome: Parameters<StreamSender["end"]>[0],
    deadline: number,
  ): Promise<boolean> {
    const active = this.active.get(requestId);
    if (!active) return false;
    const timer = setTimeout(() => active.sender.cancel(), Math.max(0, deadline - Date.now()));
    try {
      return await active.sender.end(outcome);
    } finally {
      clearTimeout(timer);
      this.active.delete(requestId);
    }
  }

  /** A stub's credit or cancel; false when it names no stream of its environment. */
  control(message: StreamCreditMessage | StreamCancelMessage): boolean {
    const active = this.active.get(String(message.requestId));
    if (!active) return false;
    if (active.request.envId !== message.envId || active.request.functionId !== message.functionId) {
      return false;
    }
    if (message.type === "stream-credit") active.sender.credit(message.seq);
    else {
      active.sender.cancel();
      this.active.delete(message.requestId);
    }
    return true;
  }
}
