/**
 * Lambda's Node.js runtime, as one module: how it calls a handler (async, callback and
 * synchronous handlers, `context.done/succeed/fail`, `callbackWaitsForEmptyEventLoop`) and reports what
 * it returned or threw. The worker threads, the local Lambda-like hosts and the stub's fallback all run
 * handlers through it, so the three cannot disagree. It follows aws-lambda-nodejs-runtime-interface-client
 * (`Runtime.js`, `CallbackContext.js`, `Errors.js`); loading a handler is in `lambda-loader.ts`
 * (`UserFunction.js`). Node.js built-ins only.
 */
import { types } from "node:util";
import type { InvocationContext } from "../protocol/messages";
import type { LambdaError } from "./lambda-error";

export type LambdaCallback = (error?: unknown, result?: unknown) => void;
export type LambdaHandler = (event: unknown, context: any, callback: LambdaCallback) => unknown;

/** The `context` a handler receives, as Lambda's runtime builds it. */
export interface RuntimeContext extends InvocationContext {
  callbackWaitsForEmptyEventLoop: boolean;
  succeed(result?: unknown): void;
  fail(error?: unknown): void;
  done(error?: unknown, result?: unknown): void;
  getRemainingTimeInMillis(): number;
}

/** How an invocation ended, before anything is serialized: what the handler returned or threw. */
export type Completion = { ok: true; result: unknown } | { ok: false; error: unknown };

/** A completion as it leaves the runtime: the result as JSON, or the error in Lambda's shape. */
export type Settled = { ok: true; json: string } | { ok: false; error: LambdaError };

export interface InvokeOptions {
  /** Absolute deadline, epoch ms (`getRemainingTimeInMillis` counts down to it). */
  deadline: number;
  /**
   * Resolves when the event loop has nothing left to do (`beforeExit`). Lambda waits for that before it
   * answers a callback handler (unless `callbackWaitsForEmptyEventLoop` is false) and before it answers
   * null for a handler that neither returned a promise nor called back. Where the loop cannot be
   * observed (the stub's fallback, whose MQTT connection keeps it busy), leave it out: a handler that
   * declares a callback is then answered when it calls back, any other at once.
   */
  emptyEventLoop?: () => Promise<void>;
}

const NODE_JS_EXIT_MESSAGE =
  "The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a " +
  "Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes";

/**
 * Calls a handler as Lambda's runtime does. The first of callback, `done`, `succeed`, `fail` or the
 * returned promise to settle wins; a synchronous throw fails the invocation. Never rejects.
 */
/** The fields of the handler's `context` that come from the invocation (both call paths give them). */
export function contextFields(data: InvocationContext, deadline: number) {
  return {
    functionVersion: data.functionVersion,
    functionName: data.functionName,
    memoryLimitInMB: data.memoryLimitInMB,
    logGroupName: data.logGroupName,
    logStreamName: data.logStreamName,
    clientContext: data.clientContext,
    identity: data.identity,
    invokedFunctionArn: data.invokedFunctionArn,
    awsRequestId: data.awsRequestId,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

export function invokeHandler(
  handler: LambdaHandler,
  event: unknown,
  data: InvocationContext,
  options: InvokeOptions,
): Promise<Completion> {
  return new Promise((resolve) => {
    let finished = false;
    let waitForEmptyEventLoop = true;
    const succeedWith = (result: unknown) => resolve({ ok: true, result });
    const failWith = (error: unknown) => resolve({ ok: false, error });
    /** Lambda lets only the first call of any of them count. */
    const once =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A): void => {
        if (finished) return;
        finished = true;
        fn(...args);
      };
    const done = (error?: unknown, result?: unknown): void =>
      error !== undefined && error !== null ? failWith(error) : succeedWith(result);
    const callback = once((error?: unknown, result?: unknown) => {
      if (error !== undefined && error !== null) return failWith(error);
      const wait = waitForEmptyEventLoop ? options.emptyEventLoop : undefined;
      if (!wait) return succeedWith(result);
      void wait().then(() => succeedWith(result));
    });
    const succeed = once((result?: unknown) => done(null, result));
    const fail = once((error?: unknown) => done(error ?? "handled", null));
    const context = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value: boolean) {
        waitForEmptyEventLoop = value;
      },
      succeed,
      fail,
      done: once(done),
      ...contextFields(data, options.deadline),
    } satisfies RuntimeContext;

    // What Lambda does when the event loop empties and nothing has answered yet.
    const isAsync = handler.constructor?.name === "AsyncFunction";
    if (options.emptyEventLoop) {
      void options.emptyEventLoop().then(() => {
        if (finished) return;
        finished = true;
        if (isAsync) failWith(runtimeError("Runtime.NodeJsExit", NODE_JS_EXIT_MESSAGE));
        else succeedWith(null);
      });
    }
    try {
      const returned = handler(event, context, callback);
      if (isThenable(returned)) returned.then(succeed, fail);
      else if (!options.emptyEventLoop && handler.length < 3) once(() => succeedWith(null))();
    } catch (error) {
      callback(error);
    }
  });
}

/** Serializes a completion as Lambda's runtime does: undefined is null; a result that JSON cannot hold fails. */
export function settle(completion: Completion): Settled {
  if (!completion.ok) return { ok: false, error: handlerError(completion.error) };
  try {
    return { ok: true, json: JSON.stringify(completion.result === undefined ? null : completion.result) };
  } catch {
    return { ok: false, error: handlerError(new Error("Unable to stringify response body")) };
  }
}

/**
 * What Lambda reports for anything a handler throws or fails with: an error's name, message and stack;
 * for anything else its type and text (`throw "x"` is `{ errorType: "string", errorMessage: "x" }`).
 */
export function handlerError(error: unknown): LambdaError {
  try {
    if (types.isNativeError(error) || isErrorLike(error)) {
      const e = error as Error;
      return {
        errorType: escapeDelete(e.name),
        errorMessage: escapeDelete(e.message),
        trace: escapeDelete(String(e.stack)).split("\n"),
      };
    }
    // As Lambda's runtime does: the thrown value's own toString, whatever it says.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    return { errorType: typeof error, errorMessage: String((error as object).toString()), trace: [] };
  } catch {
    return {
      errorType: "handled",
      errorMessage:
        "callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack",
      trace: [],
    };
  }
}

/** A rejection nobody handled: Lambda fails the invocation with it and restarts the runtime. */
export function unhandledRejectionError(reason: unknown): LambdaError {
  // Lambda's error is `new Error(reason)`: its message is the reason as text, empty for undefined.
  const message = reason === undefined ? "" : String(describe(reason));
  return handlerError(runtimeError("Runtime.UnhandledPromiseRejection", message));
}

/**
 * Tells when the event loop empties during an invocation. The handle that keeps a worker or host alive
 * between invocations (its message port, its IPC channel) is unref'd while one runs, as Lambda's runtime
 * has nothing pending while a handler runs; `beforeExit` then fires when the handler's work is done.
 */
export class EventLoopWatch {
  private waiters: Array<() => void> = [];

  constructor(private readonly keepAlive: { ref(): void; unref(): void }) {
    process.on("beforeExit", () => {
      for (const resolve of this.waiters.splice(0)) resolve();
    });
  }

  /** An invocation starts: the loop may empty from now on. */
  start(): void {
    this.waiters = [];
    this.keepAlive.unref();
  }

  /** The invocation is answered: keep the loop alive for the next. */
  end(): void {
    this.waiters = [];
    this.keepAlive.ref();
  }

  /** For {@link InvokeOptions.emptyEventLoop}. */
  readonly emptyEventLoop = (): Promise<void> => new Promise((resolve) => this.waiters.push(resolve));
}

/** An Error named as Lambda's runtime names its own (`Runtime.X`), its stack starting with that name. */
export function runtimeError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  // The stack names the error as it was created ("Error: ..."): rebuild its first line with the name.
  error.stack = `${name}: ${message}${(error.stack ?? "")
    .split("\n")
    .filter(isFrame)
    .map((l) => `\n${l}`)
    .join("")}`;
  return error;
}

/** An error as `String(error)` gives it, or any other value as text. */
export function describe(value: unknown): unknown {
  try {
    return value instanceof Error ? `${value.name}: ${value.message}` : String(value);
  } catch {
    return "[unprintable]";
  }
}

/** A stack trace line (`    at ...`). */
export function isFrame(line: string): boolean {
  return /^\s+at /.test(line);
}

function isErrorLike(value: unknown): boolean {
  const e = value as { name?: unknown; message?: unknown; stack?: unknown } | null | undefined;
  return (
    !!e &&
    typeof e.name === "string" &&
    e.name !== "" &&
    typeof e.message === "string" &&
    e.message !== "" &&
    typeof e.stack === "string" &&
    e.stack !== ""
  );
}

/** Lambda escapes DEL in error texts (it would end the header the error type travels in). */
function escapeDelete(text: string): string {
  return text.replaceAll("\x7F", "%7F");
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === "function";
}
