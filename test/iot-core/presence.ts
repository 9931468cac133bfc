import { Reassembler, stackTopics, type PresenceMessage } from "../../protocol";
import type { IotCoreStandIn } from "./stand-in";

/**
 * The first presence of the stack (the retained one, then those published) that matches, watched from the
 * stand-in's side; rejects after `timeoutMs`.
 */
export async function presenceOn(
  standIn: IotCoreStandIn,
  session: { key: Buffer; prefix: string },
  match: (p: PresenceMessage) => boolean,
  timeoutMs = 15_000,
  /** Also look at the message retained now, not only at those published from now on. */
  retained = true,
): Promise<PresenceMessage> {
  const topic = stackTopics(session.prefix).presence;
  const open = (payload: Buffer | undefined) => {
    const message = payload?.length ? new Reassembler(session.key).push(topic, payload) : undefined;
    return message?.type === "presence" && match(message) ? message : undefined;
  };
  let stop = () => undefined as void;
  try {
    return await new Promise<PresenceMessage>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching presence within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const found = (message: PresenceMessage | undefined) => {
        if (!message) return;
        clearTimeout(timer);
        resolve(message);
      };
      stop = standIn.watch(topic, (_topic, payload) => found(open(payload)));
      if (retained) void standIn.retained(topic).then((payload) => found(open(payload)));
    });
  } finally {
    stop();
  }
}
