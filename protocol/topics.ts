import { createHash } from "node:crypto";
import { MAX_CLIENT_ID_BYTES, MAX_TOPIC_BYTES, MAX_TOPIC_SLASHES } from "./limits";

/** Characters kept as they are in a topic or client id segment; everything else is replaced. */
const SAFE = /[^A-Za-z0-9_.-]/g;
const SEGMENT_MAX = 48;

function hash(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * Turns a name into one topic segment: only `[A-Za-z0-9_.-]`, at most 48 bytes. When anything had to
 * change, a hash of the original is appended, so two different names never share a segment.
 */
export function sanitizeSegment(name: string): string {
  const cleaned = name.replace(SAFE, "_");
  if (cleaned === name && name.length > 0 && name.length <= SEGMENT_MAX) return name;
  const suffix = "-" + hash(name, 8);
  return (cleaned || "_").slice(0, SEGMENT_MAX - suffix.length) + suffix;
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

/** `pulumi-live/<project>/<stack>`: the prefix every topic of a stack starts with. */
export function topicPrefix(project: string, stack: string): string {
  return `pulumi-live/${sanitizeSegment(project)}/${sanitizeSegment(stack)}`;
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

/**
 * Client ids of a stack all start with this prefix, so an IAM policy can allow exactly them
 * (`arn:aws:iot:REGION:ACCOUNT:client/<prefix>*`).
 */
export function clientIdPrefix(project: string, stack: string): string {
  return `pulumi-live-${hash(`${project}\u0000${stack}`, 12)}-`;
}

export function clientId(prefix: string, role: "stub" | "cli", id: string): string {
  const full = `${prefix}${role}-${sanitizeSegment(id)}`;
  if (Buffer.byteLength(full) > MAX_CLIENT_ID_BYTES) throw new Error(`Client id too long: ${full}`);
  return full;
}

/** A function's id as used in topics: its sanitized logical name. */
export function functionId(name: string): string {
  return sanitizeSegment(name);
}
