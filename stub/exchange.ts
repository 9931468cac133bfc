import {
  MAX_CONNECTION_BYTES_PER_SECOND,
  PACE_SHARE,
  encodeMessage,
  type ErrorMessage,
  type RequestMessage,
  type ResponseMessage,
} from "../protocol";
import type { Connection, Reply } from "./connection";
import { RelayError } from "./relay-error";

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
 * Replies are matched by request id; duplicates and late replies are ignored.
 */
export function exchange(options: ExchangeOptions): Promise<ResponseMessage | ErrorMessage> {
  const { connection, request, stack, functionId } = options;
  const session = `The pulumi-live session serving stack "${stack}"`;
  return new Promise((resolve, reject) => {
    let ackTimer: NodeJS.Timeout | undefined;
    let acked = false;
    let withEnvironment = request.environment !== undefined;
    let done = false;
    /** Sends of the same request without an ack: IoT Core drops a message over a quota without a word. */
    let unanswered = 0;

    const finish = (error: Error | undefined, outcome?: ResponseMessage | ErrorMessage): void => {
      if (done) return;
      done = true;
      clearTimeout(ackTimer);
      clearTimeout(responseTimer);
      stopReplies();
      stopPresence();
      if (error) reject(error);
      else resolve(outcome!);
    };

    const send = (message: RequestMessage): void => {
      const frames = encodeMessage(options.key, options.topic, message);
      const startAckTimer = (publishMs: number) => {
        clearTimeout(ackTimer);
        if (done || acked) return;
        ackTimer = setTimeout(() => {
          // Once more, as the same request (the session runs a request id once): a message lost to a
          // quota gets a second chance; a session that is gone still fails within two ack timeouts.
          if (++unanswered < MAX_SENDS) return send(message);
          finish(
            new RelayError(
              "NoAck",
              `${session} did not answer request ${request.requestId} for function ${functionId} within ` +
                `${options.ackTimeoutMs} ms (sent ${MAX_SENDS} times). Check that \`npx pulumi-live serve\` is ` +
                `still running and connected, and look at its output.`,
            ),
          );
        }, options.ackTimeoutMs + publishMs);
      };
      // The ack can only come once the whole request is through, and a large one is paced to IoT Core's
      // rate (a 5 MB request takes about 10 s): the wait allows for that, and starts again once the broker
      // has it all. A publish the broker never acknowledges still ends in NoAck.
      const bytes = frames.reduce((sum, frame) => sum + frame.length, 0);
      startAckTimer((bytes * 1000) / (MAX_CONNECTION_BYTES_PER_SECOND * PACE_SHARE));
      connection
        .publish(options.topic, frames)
        .then(() => startAckTimer(0))
        .catch((error: Error) =>
          finish(
            new RelayError(
              "PublishFailed",
              `Could not publish request ${request.requestId} to ${options.topic}: ${error.message}. ` +
                `Check the function's IoT permissions, or redeploy it with \`pulumi up\`.`,
            ),
          ),
        );
    };

    /** The session the request is addressed to: the one online when it was sent, or the one after. */
    let target = options.sessionId;
    let redirected = false;
    /** The session online that takes new requests for this function, if any (a draining one does not). */
    const serving = () => {
      const presence = connection.presence;
      const takes = presence && !presence.draining;
      return takes && (presence.functions.length === 0 || presence.functions.includes(functionId))
        ? presence
        : undefined;
    };
    /**
     * After a redirect: once a newer session is online, the request goes to it, with the environment.
     * While the presence still names the redirecting session, the newer one's announcement is on its way
     * (a takeover); if nobody takes new requests (stopping, or gone), the request fails as having no
     * session, so the relay's fallback can run.
     */
    const followRedirect = (): void => {
      const next = serving();
      if (next?.sessionId === target) return;
      if (!next) {
        finish(options.noSession());
        return;
      }
      target = next.sessionId;
      redirected = false;
      withEnvironment = true;
      send({ ...request, sessionId: target, environment: options.environment });
    };

    const onReply = (reply: Reply): void => {
      if (reply.type === "ack") {
        if (acked) return;
        if (reply.redirect) {
          // The session closed or was taken over without running it: the next one will.
          if (reply.sessionId !== target) return;
          redirected = true;
          followRedirect();
          return;
        }
        if (reply.needEnvironment) {
          // Once resent with the environment, a redelivered copy of the first ack is just a duplicate.
          if (withEnvironment) return;
          withEnvironment = true;
          send({ ...request, environment: options.environment });
          return;
        }
        acked = true;
        clearTimeout(ackTimer);
        if (withEnvironment) options.onEnvironmentDelivered?.(target);
        return;
      }
      // A quick answer comes without an ack (the session saves a publish): it acknowledges all the same.
      if (withEnvironment && !acked) options.onEnvironmentDelivered?.(target);
      finish(undefined, reply);
    };

    const onPresence = (): void => {
      // The session this request went to, even draining, still answers what it started.
      if (connection.presence?.sessionId === target) {
        if (redirected) followRedirect();
        return;
      }
      const presence = serving();
      if (presence) {
        // A newer session took over: the one this request went to answers what it started, or
        // redirects what it did not.
        if (redirected) followRedirect();
        return;
      }
      finish(
        new RelayError(
          "SessionEnded",
          `${session} stopped before function ${functionId} answered request ${request.requestId}. ` +
            `Start it again in your project folder: npx pulumi-live serve`,
        ),
      );
    };

    const responseTimer = setTimeout(
      () =>
        finish(
          new RelayError(
            "Timeout",
            `${session} did not return the result of request ${request.requestId} for function ${functionId} ` +
              `before the function's timeout.`,
          ),
        ),
      Math.max(0, options.responseBy - Date.now()),
    );
    // Listen before publishing: an answer can be faster than the publish callback.
    const stopReplies = connection.expect(request.requestId, onReply);
    const stopPresence = connection.onPresence(onPresence);
    send(request);
  });
}
