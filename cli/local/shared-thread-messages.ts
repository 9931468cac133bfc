/**
 * What serve and a thread of several environments (`shared-thread-host.ts`) send each other: the messages
 * of one environment's host (`host-messages.ts`), each with the environment's id.
 */
import type { HostMessage, ParentMessage } from "./host-messages";
import type { BrokerLinkMessage } from "./thread-broker-link";

/** Serve → thread. */
export type SharedParentMessage =
  /** A new environment with these variables: its module is loaded at once (its init). */
  | { type: "open"; id: number; env: Record<string, string> }
  /** The environment is ended: its links are cut and nothing more comes from it. */
  | { type: "discard"; id: number }
  | { type: "to"; id: number; message: ParentMessage };

/** Thread → serve. */
export type SharedHostMessage =
  | { type: "from"; id: number; message: HostMessage }
  /** Output of the thread not written through an environment's console. */
  | { type: "output"; stream: "stdout" | "stderr"; text: string }
  | BrokerLinkMessage;
