/**
 * The response stream a streaming handler writes to, and `awslambda.HttpResponseStream`, as Lambda's
 * Node.js runtime makes them (aws-lambda-nodejs-runtime-interface-client, `ResponseStream.js` and
 * `HttpResponseStream.js`): a content type settable until the first write, a first-write hook that
 * `HttpResponseStream.from` uses to put its JSON prelude and 8 NUL bytes ahead of the body, anything but
 * strings and bytes written as JSON. Where the bytes go is a {@link StreamSink}: a worker's port, a
 * local host's IPC channel, or the stub's own response stream. Node.js built-ins only.
 */
import { Writable } from "node:stream";

/** What a stream's content type is when the handler sets none (`ResponseStream.js`). */
export const DEFAULT_STREAM_CONTENT_TYPE = "application/octet-stream";
/** The content type `HttpResponseStream.from` sets: a JSON prelude, 8 NUL bytes, then the body. */
export const HTTP_INTEGRATION_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response";
/** The NUL bytes after the prelude. */
export const PRELUDE_DELIMITER_BYTES = 8;

/** Where a response stream's bytes go. */
export interface StreamSink {
  /** The stream's first bytes (or its end, with none written) are coming: the content type is final. */
  start(contentType: string): void;
  /**
   * Takes one chunk; calls `done` when the next may come (that is the stream's backpressure), or with an
   * error when nothing more can be taken (the caller went away).
   */
  write(chunk: Buffer, done: (error?: Error | null) => void): void;
}

/** The error Lambda's runtime throws for what a response stream does not allow. */
export function invalidStreamingOperation(message: string): Error {
  const error = new Error(message);
  error.name = "Runtime.InvalidStreamingOperation";
  return error;
}

/**
 * A handler's response stream: a Node.js Writable, so `pipeline(source, responseStream)` and `write` /
 * `end` / `on("drain")` work as on Lambda.
 */
export class ResponseStream extends Writable {
  /** Set by `HttpResponseStream.from`: called with a raw write before the first chunk (Lambda's name). */
  _onBeforeFirstWrite: ((write: (chunk: string | Uint8Array) => void) => void) | undefined;
  private contentType = DEFAULT_STREAM_CONTENT_TYPE;
  private writeCalled = false;
  private started = false;

  constructor(
    private readonly sink: StreamSink,
    highWaterMark?: number,
  ) {
    super(highWaterMark === undefined ? {} : { highWaterMark });
  }

  /** Allowed until the first write. */
  setContentType(contentType: string): void {
    if (this.writeCalled) throw invalidStreamingOperation("Cannot set content-type, too late.");
    this.contentType = contentType;
  }

  // Lambda's stream takes anything: what is not a string or bytes is written as its JSON.
  override write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    const bytes =
      typeof chunk === "string" || Buffer.isBuffer(chunk) || chunk instanceof Uint8Array
        ? chunk
        : JSON.stringify(chunk);
    if (!this.writeCalled && typeof this._onBeforeFirstWrite === "function") {
      this._onBeforeFirstWrite((early) => super.write(early));
    }
    this.writeCalled = true;
    return super.write(bytes, encoding as BufferEncoding, callback as (error?: Error | null) => void);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.start();
    this.sink.write(chunk, done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.start();
    done();
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.sink.start(this.contentType);
  }
}

/** `awslambda.HttpResponseStream`: the status, headers and cookies of an HTTP answer, ahead of its body. */
export class HttpResponseStream {
  static from(underlyingStream: ResponseStream, prelude: unknown): ResponseStream {
    underlyingStream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    // Lambda stringifies it: NUL is not allowed in the prelude, and JSON cannot hold one raw.
    const metadata = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(new Uint8Array(PRELUDE_DELIMITER_BYTES));
    };
    return underlyingStream;
  }
}
