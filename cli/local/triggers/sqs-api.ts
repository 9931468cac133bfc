/**
 * The SQS API of the local queues, in the protocol `@aws-sdk/client-sqs` v3 speaks: AWS JSON 1.0
 * (`POST /`, `X-Amz-Target: AmazonSQS.<Operation>`), errors as `{"__type", "message"}` with the
 * query-compatible code in `x-amzn-query-error`. The SDK sends requests to the host of the `QueueUrl`
 * (its `useQueueUrlAsEndpoint`), so a queue URL of the local gateway is all a handler needs.
 * Signatures are not checked.
 */
import type { ServerResponse } from "node:http";
import { sendJson } from "../http-io";
import type { LocalAwsService } from "../gateway";
import { queueError, type LocalQueue, type MessageAttribute } from "./sqs-queue";

interface SendEntry {
  Id?: string;
  MessageBody?: unknown;
  DelaySeconds?: number;
  MessageAttributes?: Record<string, MessageAttribute>;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

const OPERATIONS = [
  "SendMessage",
  "SendMessageBatch",
  "ReceiveMessage",
  "DeleteMessage",
  "GetQueueUrl",
  "GetQueueAttributes",
  "ListQueues",
  "PurgeQueue",
];

/** Query-compatible codes the SDK turns into its exception classes. */
const QUERY_CODES: Record<string, string> = {
  QueueDoesNotExist: "AWS.SimpleQueueService.NonExistentQueue",
  UnsupportedOperation: "AWS.SimpleQueueService.UnsupportedOperation",
};

export function sqsService(
  queues: Map<string, LocalQueue>,
  onMessage?: (queue: string) => void,
): LocalAwsService {
  const queueOf = (url: unknown): LocalQueue => {
    const name =
      typeof url === "string" ? decodeURIComponent(url.replace(/\/+$/, "").split("/").pop() ?? "") : "";
    const queue = queues.get(name);
    if (!queue)
      throw queueError(
        "QueueDoesNotExist",
        `The specified queue does not exist: ${String(url)}. Local queues: ${[...queues.values()].map((q) => q.url).join(", ") || "(none)"}.`,
      );
    return queue;
  };
  const sendOne = (queue: LocalQueue, entry: SendEntry) => {
    if (typeof entry.MessageBody !== "string" || entry.MessageBody === "")
      throw queueError("MissingParameter", "The request must contain the parameter MessageBody.");
    const message = queue.send({
      body: entry.MessageBody,
      attributes: entry.MessageAttributes,
      delaySeconds: entry.DelaySeconds,
      groupId: entry.MessageGroupId,
      deduplicationId: entry.MessageDeduplicationId,
    });
    onMessage?.(queue.name);
    return {
      MessageId: message.messageId,
      MD5OfMessageBody: message.md5OfBody,
      ...(message.md5OfMessageAttributes ? { MD5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
      ...(message.sequenceNumber ? { SequenceNumber: message.sequenceNumber } : {}),
    };
  };

  const operations: Record<string, (input: Record<string, any>) => unknown> = {
    SendMessage: (input) => sendOne(queueOf(input.QueueUrl), input),
    SendMessageBatch: (input) => {
      const queue = queueOf(input.QueueUrl);
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const entry of (input.Entries ?? []) as SendEntry[]) {
        try {
          Successful.push({ Id: entry.Id, ...sendOne(queue, entry) });
        } catch (error) {
          Failed.push({
            Id: entry.Id,
            SenderFault: true,
            Code: (error as { code?: string }).code,
            Message: (error as Error).message,
          });
        }
      }
      return { Successful, Failed };
    },
    ReceiveMessage: (input) => {
      const queue = queueOf(input.QueueUrl);
      const messages = queue.receive(
        Math.min(10, Number(input.MaxNumberOfMessages ?? 1)),
        input.VisibilityTimeout as number | undefined,
      );
      return {
        Messages: messages.map((m) => ({
          MessageId: m.messageId,
          ReceiptHandle: m.receiptHandle,
          MD5OfBody: m.md5OfBody,
          Body: m.body,
          Attributes: {
            ApproximateReceiveCount: String(m.receiveCount),
            SentTimestamp: String(m.sentTimestamp),
          },
          ...(Object.keys(m.attributes).length > 0
            ? { MessageAttributes: m.attributes, MD5OfMessageAttributes: m.md5OfMessageAttributes }
            : {}),
        })),
      };
    },
    DeleteMessage: (input) => {
      queueOf(input.QueueUrl).delete(String(input.ReceiptHandle));
      return {};
    },
    GetQueueUrl: (input) => ({ QueueUrl: queueOf(String(input.QueueName)).url }),
    GetQueueAttributes: (input) => {
      const queue = queueOf(input.QueueUrl);
      const counts = queue.counts();
      return {
        Attributes: {
          QueueArn: queue.arn,
          ApproximateNumberOfMessages: String(counts.visible),
          ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
          ApproximateNumberOfMessagesDelayed: String(counts.delayed),
          VisibilityTimeout: String(queue.options.visibilityTimeoutSeconds),
          DelaySeconds: String(queue.options.delaySeconds),
          FifoQueue: String(queue.options.fifo),
        },
      };
    },
    ListQueues: (input) => ({
      QueueUrls: [...queues.values()]
        .filter((q) => q.name.startsWith(String(input.QueueNamePrefix ?? "")))
        .map((q) => q.url),
    }),
    PurgeQueue: (input) => {
      queueOf(input.QueueUrl).purge();
      return {};
    },
  };

  return {
    targetPrefix: "AmazonSQS.",
    async handle(target: string, body: Buffer, res: ServerResponse) {
      const operation = target.slice("AmazonSQS.".length);
      let input: Record<string, any> = {};
      let name = "";
      try {
        input = body.length > 0 ? (JSON.parse(body.toString("utf8")) as Record<string, any>) : {};
        name =
          String(input.QueueUrl ?? input.QueueName ?? "")
            .split("/")
            .pop() ?? "";
        const run = operations[operation];
        if (!run) {
          throw queueError(
            "UnsupportedOperation",
            `The local SQS answers ${OPERATIONS.join(", ")}; not ${operation}.`,
          );
        }
        sendJson(res, 200, run(input), { "content-type": "application/x-amz-json-1.0" });
        return { name, status: 200 };
      } catch (error) {
        const code = (error as { code?: string }).code ?? "InvalidParameterValue";
        const message = (error as Error).message;
        const query = QUERY_CODES[code] ?? code;
        sendJson(
          res,
          400,
          { __type: `com.amazonaws.sqs#${code}`, message },
          {
            "content-type": "application/x-amz-json-1.0",
            "x-amzn-query-error": `${query};Sender`,
          },
        );
        return { name, status: 400, error: `${code}: ${message}` };
      }
    },
  };
}
