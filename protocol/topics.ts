import { createHash } from "node:crypto";
import { MAX_CLIENT_ID_BYTES, MAX_TOPIC_BYTES, MAX_TOPIC_SLASHES } from "./limits";

/** Characters kept as they are in a topic or client id segment; everything else is replaced. */
const SAFE = /[^A-Za-z0-9_.-]/g;
const SEGMENT_MAX = 48;
/**
 * Organization, project and stack segments are shorter, so the longest response topic
 * (`pulumi-live/<org>/<project>/<stack>/<id>/res/<function>/<env>`) stays within 256 bytes.
 */
const NAME_SEGMENT_MAX = 32;
const ID_SEGMENT_MAX = 16;

function hash(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * Turns a name into one topic segment: only `[A-Za-z0-9_.-]`, at most `max` (48) bytes. When anything
 * had to change, a hash of the original is appended, so two different names never share a segment.
 */
export function sanitizeSegment(name: string, max = SEGMENT_MAX): string {
  const cleaned = name.replace(SAFE, "_");
  if (cleaned === name && name.length > 0 && name.length <= max) return name;
  const suffix = "-" + hash(name, 8);
  return (cleaned || "_").slice(0, max - suffix.length) + suffix;
}

/**
 * What makes a stack's topics and client ids its own: two stacks of the same name in two Pulumi
 * organizations, or a stack deleted and created again, never share them. `id` is random, made once by the
 * stack's `Session` resource and kept in its state.
 */
export interface StackNamespace {
  organization: string;
  project: string;
  stack: string;
  id: string;
}

/** The topics one stack uses. */
export interface StackTopics {
  prefix: string;
  presence: string;
  /** Subscription filter for every request of the stack. */
  requests: string;
  request(functionId: string): string;
  response(functionId: string, envId: string): string;
}

/** `pulumi-live/<organization>/<project>/<stack>/<id>`: the prefix every topic of a stack starts with. */
export function topicPrefix(ns: StackNamespace): string {
  return `${stackNamePrefix(ns)}/${sanitizeSegment(ns.id, ID_SEGMENT_MAX)}`;
}

/**
 * `pulumi-live/<organization>/<project>/<stack>`: what the topic prefix of every namespace of this stack
 * starts with, whatever its id (the policy of a function that is not live denies `<this>/*`).
 */
export function stackNamePrefix(ns: Omit<StackNamespace, "id">): string {
  const segment = (name: string) => sanitizeSegment(name, NAME_SEGMENT_MAX);
  return `pulumi-live/${segment(ns.organization)}/${segment(ns.project)}/${segment(ns.stack)}`;
}

export function stackTopics(prefix: string): StackTopics {
  const topics: StackTopics = {
    prefix,
    presence: `${prefix}/presence`,
    requests: `${prefix}/req/+`,
    request: (functionId) => checkTopic(`${prefix}/req/${sanitizeSegment(functionId)}`),
    response: (functionId, envId) =>
      checkTopic(`${prefix}/res/${sanitizeSegment(functionId)}/${sanitizeSegment(envId)}`),
  };
  checkTopic(topics.presence);
  return topics;
}

/** Throws when a topic breaks one of IoT Core's rules; the builders above never produce one that does. */
export function checkTopic(topic: string): string {
  const problems: string[] = [];
  if (Buffer.byteLength(topic) > MAX_TOPIC_BYTES) problems.push(`longer than ${MAX_TOPIC_BYTES} bytes`);
  if (topic.split("/").length - 1 > MAX_TOPIC_SLASHES)
    problems.push(`more than ${MAX_TOPIC_SLASHES} slashes`);
  if (/[+#$]/.test(topic)) problems.push("contains + # or $");
  if (problems.length > 0) throw new Error(`Invalid IoT topic "${topic}": ${problems.join(", ")}`);
  return topic;
}

/** Who connects: a relay stub (the function's role) or a serving session (the developer). */
export type ClientRole = "stub" | "session";

/**
 * Client ids of a stack start with one prefix per role, so IAM policies can keep them apart: a stub's role
 * may connect only as `<stub prefix>*` and the developer only as `<session prefix>*`. IoT Core disconnects
 * the earlier holder of a client id; with one shared prefix a function could knock the session off.
 * Neither prefix is a prefix of the other.
 */
export function clientIdPrefix(ns: StackNamespace, role: ClientRole): string {
  const stack = hash([ns.organization, ns.project, ns.stack, ns.id].join("\u0000"), 12);
  return `pulumi-live-${stack}-${role === "stub" ? "stub" : "cli"}-`;
}

/** A client id under `prefix` (one of `clientIdPrefix`'s). */
export function clientId(prefix: string, id: string): string {
  const full = `${prefix}${sanitizeSegment(id)}`;
  if (Buffer.byteLength(full) > MAX_CLIENT_ID_BYTES) throw new Error(`Client id too long: ${full}`);
  return full;
}

/** A function's id as used in topics: its sanitized logical name. */
export function functionId(name: string): string {
  return sanitizeSegment(name);
}
