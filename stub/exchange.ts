import {
  MAX_CONNECTION_BYTES_PER_SECOND,
  PACE_SHARE,
  encodeMessage,
  type ErrorMessage,
  type RequestMessage,
  type ResponseMessage,
} from "../protocol";
import type { Connection } from "./connection";
import {
  exchangeTransition,
  initialExchange,
  type ExchangeEffect,
  type ExchangeEvent,
  type ExchangeFailure,
} from "./exchange-state";
import { RelayError } from "./relay-error";

export type { Reply } from "./exchange-state";

export interface ExchangeOptions {
  connection: Connection;
  key: Buffer;
  topic: string;
  request: RequestMessage;
  /** The function's environment, for when the request goes without it and the session asks. */
  environment: Record<string, string>;
  /** The session that was online when the request was built. */
  sessionId: string;
  ackTimeoutMs: number;
  /** Absolute epoch ms by which the response must be here. */
  responseBy: number;
  /** Words for error messages: `stack "proj/dev"` and the function id. */
  stack: string;
  functionId: string;
  /** The error for a request no session will take (so the relay can run its fallback). */
  noSession: () => Error;
  /** Called once a session acknowledged a publish that carried the environment. */
  onEnvironmentDelivered?: (sessionId: string) => void;
}

/** How many times a request is sent before it fails for want of an ack. */
const MAX_SENDS = 2;

/**
 * One request's round trip: publish, wait (bounded) for the session's ack, resend with the environment if
 * asked, then wait for the response until the deadline. Fails at once when the session goes away.
 * Replies are matched by request id; duplicates and late replies are ignored. The decisions are
 * `exchangeTransition`'s; this function runs the timers and the publishes.
 */
export function exchange(options: ExchangeOptions): Promise<ResponseMessage | ErrorMessage> {
  const { connection, request, stack, functionId } = options;
  const session = `The pulumi-live session serving stack "${stack}"`;
  const failure = (code: ExchangeFailure, target: string, detail?: string): Error => {
    switch (code) {
      case "NoSession":
        return options.noSession();
      case "NoAck":
        return new RelayError(
          "NoAck",
          `${session} (session ${target}) did not acknowledge request ${request.requestId} for function ` +
            `${functionId} within ${options.ackTimeoutMs} ms. Check that \`npx pulumi-live serve\` is still ` +
            `running and connected, and look at its output.`,
        );
      case "SessionEnded":
        return new RelayError(
          "SessionEnded",
          `${session} stopped before function ${functionId} answered request ${request.requestId}. ` +
            `Start it again in your project folder: npx pulumi-live serve`,
        );
      case "Timeout":
        return new RelayError(
          "Timeout",
          `${session} did not return the result of request ${request.requestId} for function ${functionId} ` +
            `before the function's timeout.`,
        );
      case "PublishFailed":
        return new RelayError(
          "PublishFailed",
          `Could not publish request ${request.requestId} to ${options.topic}: ${detail}. ` +
            `Check the function's IoT permissions, or redeploy it with \`pulumi up\`.`,
        );
    }
  };

  return new Promise((resolve, reject) => {
    let state = initialExchange(options.sessionId, request.environment !== undefined);
    let ackTimer: NodeJS.Timeout | undefined;
    /** The last request sent, and how many times in a row it went unacknowledged. */
    let last: RequestMessage | undefined;
    let unanswered = 0;

    const apply = (event: ExchangeEvent): void => {
      const target = state.target;
      const step = exchangeTransition(state, event, connection.presence, functionId);
      state = step.state;
      for (const effect of step.effects) perform(effect, target);
      if (state.phase === "done") {
        clearTimeout(ackTimer);
        clearTimeout(responseTimer);
        stopReplies();
        stopPresence();
      }
    };

    const perform = (effect: ExchangeEffect, target: string): void => {
      switch (effect.kind) {
        case "send": {
          const message: RequestMessage = { ...request, sessionId: effect.sessionId };
          if (effect.environment) message.environment = options.environment;
          send(message);
          return;
        }
        case "acked":
          clearTimeout(ackTimer);
          return;
        case "environment-delivered":
          options.onEnvironmentDelivered?.(effect.sessionId);
          return;
        case "answer":
          resolve(effect.reply);
          return;
        case "fail":
          reject(failure(effect.failure, target, effect.detail));
          return;
      }
    };

    const send = (message: RequestMessage): void => {
      if (last !== message) unanswered = 0;
      last = message;
      const frames = encodeMessage(options.key, options.topic, message);
      // The ack can only come once the whole request is through, and a large one is paced to IoT Core's
      // rate (a 5 MB request takes about 10 s): the wait allows for that, and starts again once the
      // broker has it all. A publish the broker never acknowledges still ends in NoAck.
      const bytes = frames.reduce((sum, frame) => sum + frame.length, 0);
      waitForAck((bytes * 1000) / (MAX_CONNECTION_BYTES_PER_SECOND * PACE_SHARE));
      connection.publish(options.topic, frames).then(
        () => {
          if (last === message && state.phase === "sent") waitForAck(0);
        },
        (error: Error) => apply({ kind: "publish-failed", message: error.message }),
      );
    };

    const waitForAck = (publishMs: number): void => {
      clearTimeout(ackTimer);
      ackTimer = setTimeout(() => {
        // Once more, as the same request (a session runs a request id once): IoT Core drops a message
        // over a quota without a word. A session that is gone still fails within two ack timeouts.
        if (state.phase === "sent" && last && ++unanswered < MAX_SENDS) return send(last);
        apply({ kind: "ack-timeout" });
      }, options.ackTimeoutMs + publishMs);
    };

    const responseTimer = setTimeout(
      () => apply({ kind: "response-timeout" }),
      Math.max(0, options.responseBy - Date.now()),
    );
    // Listen before publishing: an answer can be faster than the publish callback.
    const stopReplies = connection.expect(request.requestId, (reply) => apply({ kind: "reply", reply }));
    const stopPresence = connection.onPresence(() =>
      apply({ kind: "presence", presence: connection.presence }),
    );
    send(request);
  });
}
