/**
 * A local SQS queue: messages with their attributes and MD5 digests as SQS computes them, delays,
 * visibility timeouts, receive counts and the redrive to a dead-letter queue after `maxReceiveCount`
 * receives (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/).
 * In memory; FIFO queues keep order but do not block a message group while a batch of it is in flight.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";

/** A message attribute as the SQS API carries it (`BinaryValue` base64 in JSON). */
export interface MessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface QueueMessage {
  messageId: string;
  body: string;
  attributes: Record<string, MessageAttribute>;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  sentTimestamp: number;
  firstReceiveTimestamp?: number;
  receiveCount: number;
  /** Invisible until then (delay, or in flight). */
  visibleAt: number;
  /** The handle of its latest receive. */
  receiptHandle?: string;
  groupId?: string;
  deduplicationId?: string;
  sequenceNumber?: string;
}

export interface LocalQueueOptions {
  name: string;
  arn: string;
  url: string;
  fifo: boolean;
  visibilityTimeoutSeconds: number;
  delaySeconds: number;
  deadLetter?: { queue: LocalQueue; maxReceiveCount: number };
  /** @default Date.now */
  now?: () => number;
}

/** Messages kept at most per queue: a queue nobody consumes must not grow without bound. */
const MAX_MESSAGES = 10_000;

export function md5(data: Buffer | string): string {
  return createHash("md5").update(data).digest("hex");
}

/** SQS's digest of message attributes: sorted by name, each length-prefixed with its transport type. */
export function md5OfAttributes(attributes: Record<string, MessageAttribute>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  const prefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of names) {
    const attribute = attributes[name];
    prefixed(Buffer.from(name, "utf8"));
    prefixed(Buffer.from(attribute.DataType, "utf8"));
    const binary = attribute.DataType.startsWith("Binary");
    parts.push(Buffer.from([binary ? 2 : 1]));
    prefixed(
      binary
        ? Buffer.from(attribute.BinaryValue ?? "", "base64")
        : Buffer.from(attribute.StringValue ?? "", "utf8"),
    );
  }
  return md5(Buffer.concat(parts));
}

export class LocalQueue extends EventEmitter<{ available: [] }> {
  readonly name: string;
  readonly arn: string;
  readonly url: string;
  private readonly messages: QueueMessage[] = [];
  private sequence = 0n;
  private readonly now: () => number;

  constructor(readonly options: LocalQueueOptions) {
    super();
    this.name = options.name;
    this.arn = options.arn;
    this.url = options.url;
    this.now = options.now ?? Date.now;
  }

  /** Adds a message; throws an Error with the SQS error code as `code` when it cannot. */
  send(input: {
    body: string;
    attributes?: Record<string, MessageAttribute>;
    delaySeconds?: number;
    groupId?: string;
    deduplicationId?: string;
  }): QueueMessage {
    if (this.options.fifo && !input.groupId)
      throw queueError("MissingParameter", "The request must contain the parameter MessageGroupId.");
    if (this.messages.length >= MAX_MESSAGES)
      throw queueError("OverLimit", `The local queue ${this.name} holds ${MAX_MESSAGES} messages already.`);
    const now = this.now();
    const attributes = input.attributes ?? {};
    const message: QueueMessage = {
      messageId: randomUUID(),
      body: input.body,
      attributes,
      md5OfBody: md5(input.body),
      ...(md5OfAttributes(attributes) ? { md5OfMessageAttributes: md5OfAttributes(attributes) } : {}),
      sentTimestamp: now,
      receiveCount: 0,
      visibleAt: now + 1000 * (input.delaySeconds ?? this.options.delaySeconds),
      ...(input.groupId ? { groupId: input.groupId } : {}),
      ...(input.deduplicationId ? { deduplicationId: input.deduplicationId } : {}),
      ...(this.options.fifo ? { sequenceNumber: String(++this.sequence).padStart(20, "1") } : {}),
    };
    this.messages.push(message);
    this.emit("available");
    return message;
  }

  /** Receives up to `max` visible messages, making them invisible for the visibility timeout. */
  receive(max: number, visibilitySeconds = this.options.visibilityTimeoutSeconds): QueueMessage[] {
    const now = this.now();
    const received: QueueMessage[] = [];
    for (const message of [...this.messages]) {
      if (received.length >= max) break;
      if (message.visibleAt > now) continue;
      const dead = this.options.deadLetter;
      if (dead && message.receiveCount >= dead.maxReceiveCount) {
        // Past maxReceiveCount, SQS moves the message to the dead-letter queue instead of returning it.
        this.remove(message);
        dead.queue.send({ body: message.body, attributes: message.attributes, groupId: message.groupId });
        continue;
      }
      message.receiveCount++;
      message.firstReceiveTimestamp ??= now;
      message.visibleAt = now + visibilitySeconds * 1000;
      message.receiptHandle = `${message.messageId}#${randomBytes(12).toString("base64url")}`;
      received.push({ ...message });
    }
    return received;
  }

  /** Deletes a received message; false when the handle is not the latest one (an old receive). */
  delete(receiptHandle: string): boolean {
    const message = this.messages.find((m) => m.receiptHandle === receiptHandle);
    if (!message) return false;
    this.remove(message);
    return true;
  }

  /** Messages visible now, and in flight (received, not deleted). */
  counts(): { visible: number; inFlight: number; delayed: number } {
    const now = this.now();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const m of this.messages) {
      if (m.visibleAt <= now) visible++;
      else if (m.receiveCount > 0) inFlight++;
      else delayed++;
    }
    return { visible, inFlight, delayed };
  }

  /** When the next invisible message becomes visible; undefined when none waits. */
  nextVisibleAt(): number | undefined {
    const now = this.now();
    const waiting = this.messages.filter((m) => m.visibleAt > now).map((m) => m.visibleAt);
    return waiting.length > 0 ? Math.min(...waiting) : undefined;
  }

  purge(): void {
    this.messages.length = 0;
  }

  private remove(message: QueueMessage): void {
    const at = this.messages.indexOf(message);
    if (at >= 0) this.messages.splice(at, 1);
  }
}

/** An error the SQS API answers with its code. */
export function queueError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}
