/**
 * An SQS event source mapping, run locally: it takes batches of up to `batchSize` visible messages from
 * the local queue and invokes the function with the event Lambda sends
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html), then deletes what succeeded. A failed
 * invocation leaves the whole batch to reappear after the visibility timeout; with
 * `ReportBatchItemFailures` (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html)
 * only the reported `itemIdentifier`s reappear — an empty or null list, or an empty or null response, is
 * complete success; an identifier that is empty, null, not a string or not in the batch, or a response
 * that is not an object, is complete failure.
 */
import type { Invoker } from "../invoker";
import type { LocalQueue, MessageAttribute, QueueMessage } from "./sqs-queue";

export interface BatchOutcome {
  queue: string;
  functionName: string;
  requestId: string;
  size: number;
  /** Messages deleted (succeeded). */
  deleted: number;
  /** Messages left to be retried after the visibility timeout. */
  retried: number;
  error?: string;
}

export interface PollerOptions {
  queue: LocalQueue;
  functionName: string;
  invoker: Invoker;
  batchSize: number;
  reportBatchItemFailures: boolean;
  region: string;
  /** Batches in flight at most. @default 5 */
  concurrency?: number;
  onBatch?: (outcome: BatchOutcome) => void;
}

/** An SQS record as Lambda delivers it. */
export function sqsRecord(message: QueueMessage, queue: LocalQueue, region: string): object {
  const attributes: Record<string, string> = {
    ApproximateReceiveCount: String(message.receiveCount),
    SentTimestamp: String(message.sentTimestamp),
    SenderId: "AIDAPULUMILIVELOCAL",
    ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp ?? message.sentTimestamp),
    ...(message.sequenceNumber ? { SequenceNumber: message.sequenceNumber } : {}),
    ...(message.groupId ? { MessageGroupId: message.groupId } : {}),
    ...(message.deduplicationId ? { MessageDeduplicationId: message.deduplicationId } : {}),
  };
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes,
    messageAttributes: Object.fromEntries(
      Object.entries(message.attributes).map(([name, a]) => [name, recordAttribute(a)]),
    ),
    md5OfBody: message.md5OfBody,
    ...(message.md5OfMessageAttributes ? { md5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
    eventSource: "aws:sqs",
    eventSourceARN: queue.arn,
    awsRegion: region,
  };
}

function recordAttribute(a: MessageAttribute): object {
  return {
    ...(a.StringValue !== undefined ? { stringValue: a.StringValue } : {}),
    ...(a.BinaryValue !== undefined ? { binaryValue: a.BinaryValue } : {}),
    stringListValues: [],
    binaryListValues: [],
    dataType: a.DataType,
  };
}

/** The message ids to retry from a partial batch response; `"all"` when it counts as complete failure. */
export function failedItems(result: unknown, batch: string[]): Set<string> | "all" {
  if (result === null || result === undefined) return new Set();
  if (typeof result !== "object" || Array.isArray(result)) return "all";
  const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return new Set();
  if (!Array.isArray(failures)) return "all";
  const ids = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== "string" || id === "" || !batch.includes(id)) return "all";
    ids.add(id);
  }
  return ids;
}

export class SqsPoller {
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly wake = () => this.poll();
  /** Batches under way, so close() can wait for them. */
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: PollerOptions) {}

  start(): void {
    this.options.queue.on("available", this.wake);
    this.poll();
  }

  /** Stops taking batches and waits for those under way. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.options.queue.off("available", this.wake);
    clearTimeout(this.timer);
    await Promise.allSettled([...this.running]);
  }

  private poll(): void {
    if (this.closed) return;
    const { queue, batchSize } = this.options;
    while (this.inFlight < (this.options.concurrency ?? 5)) {
      const batch = queue.receive(batchSize);
      if (batch.length === 0) break;
      this.inFlight++;
      const run = this.deliver(batch).finally(() => {
        this.inFlight--;
        this.running.delete(run);
        this.poll();
      });
      this.running.add(run);
    }
    // Messages waiting for their delay or visibility timeout: look again when the first is due.
    clearTimeout(this.timer);
    const due = queue.nextVisibleAt();
    if (due !== undefined) {
      this.timer = setTimeout(() => this.poll(), Math.max(0, due - Date.now()) + 1);
    }
  }

  private async deliver(batch: QueueMessage[]): Promise<void> {
    const { queue, invoker, functionName, region } = this.options;
    const event = { Records: batch.map((m) => sqsRecord(m, queue, region)) };
    const outcome: BatchOutcome = {
      queue: queue.name,
      functionName,
      requestId: "",
      size: batch.length,
      deleted: 0,
      retried: batch.length,
    };
    try {
      const result = await invoker.invoke(Buffer.from(JSON.stringify(event)), { tail: false });
      outcome.requestId = result.requestId;
      let failed: Set<string> | "all" = "all";
      if (result.functionError) {
        const error = JSON.parse(result.payload.toString("utf8")) as {
          errorType?: string;
          errorMessage?: string;
        };
        outcome.error = `${error.errorType}: ${error.errorMessage}`;
      } else if (!this.options.reportBatchItemFailures) failed = new Set();
      else {
        const ids = batch.map((m) => m.messageId);
        failed = failedItems(parseJson(result.payload), ids);
        if (failed === "all") outcome.error = "invalid partial batch response: the whole batch is retried";
      }
      if (failed !== "all") {
        for (const message of batch) {
          if (!failed.has(message.messageId) && queue.delete(message.receiptHandle!)) outcome.deleted++;
        }
        outcome.retried = batch.length - outcome.deleted;
      }
    } catch (error) {
      outcome.error = (error as Error).message;
    }
    this.options.onBatch?.(outcome);
  }
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString("utf8"));
  } catch {
    return Symbol("invalid");
  }
}
