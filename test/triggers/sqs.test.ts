import test from "ava";
import type { InvokeOptions, InvokeResult, Invoker } from "../../cli/local/invoker";
import { failedItems, SqsPoller, type BatchOutcome } from "../../cli/local/triggers/sqs-poller";
import { LocalQueue, md5OfAttributes } from "../../cli/local/triggers/sqs-queue";

function queue(overrides: Partial<ConstructorParameters<typeof LocalQueue>[0]> = {}): LocalQueue {
  return new LocalQueue({
    name: "jobs",
    arn: "arn:aws:sqs:us-east-1:000000000000:jobs",
    url: "http://127.0.0.1:3000/000000000000/jobs",
    fifo: false,
    visibilityTimeoutSeconds: 30,
    delaySeconds: 0,
    ...overrides,
  });
}

test("MD5 of message attributes as SQS computes it", (t) => {
  // Reference values from moto's implementation of SQS (moto/sqs/models.py, Message.attribute_md5).
  t.is(
    md5OfAttributes({ foo: { DataType: "String", StringValue: "bar" } }),
    "d8062e30406ad939a86bacea477e5a26",
  );
  t.is(
    md5OfAttributes({
      b: { DataType: "Binary", BinaryValue: "AAE=" },
      a: { DataType: "Number", StringValue: "1" },
    }),
    "d75339639111193cd0b8f07b47e24347",
  );
  t.is(md5OfAttributes({}), undefined);
});

test("a partial batch response: what counts as success and what as complete failure", (t) => {
  const batch = ["m1", "m2"];
  const table: Array<[unknown, string[] | "all"]> = [
    [{ batchItemFailures: [] }, []],
    [{ batchItemFailures: null }, []],
    [{}, []],
    [null, []],
    [{ batchItemFailures: [{ itemIdentifier: "m2" }] }, ["m2"]],
    [{ batchItemFailures: [{ itemIdentifier: "" }] }, "all"],
    [{ batchItemFailures: [{ itemIdentifier: null }] }, "all"],
    [{ batchItemFailures: [{ itemIdentifer: "m2" }] }, "all"],
    [{ batchItemFailures: [{ itemIdentifier: "nope" }] }, "all"],
    ["a string", "all"],
    [{ batchItemFailures: "m1" }, "all"],
  ];
  for (const [response, expected] of table) {
    const got = failedItems(response, batch);
    t.deepEqual(got === "all" ? got : [...got], expected, JSON.stringify(response));
  }
});

/** An invoker answering from a function of the event; resolves `calls` as they come. */
class Handler implements Invoker {
  readonly events: any[] = [];
  constructor(private readonly answer: (event: any, n: number) => { result?: unknown; error?: boolean }) {}
  async invoke(payload: Buffer, options: InvokeOptions): Promise<InvokeResult> {
    const event = JSON.parse(payload.toString());
    this.events.push(event);
    const { result, error } = this.answer(event, this.events.length);
    const body = error ? { errorType: "Error", errorMessage: "boom", trace: [] } : result;
    return {
      payload: Buffer.from(JSON.stringify(body ?? null)),
      requestId: options.requestId ?? `r${this.events.length}`,
      durationMs: 1,
      ...(error ? { functionError: "Unhandled" } : {}),
    };
  }
  async close(): Promise<void> {}
}

/** Batch outcomes as they come, and a wait for the n-th. */
function collector(): { list: BatchOutcome[]; add(o: BatchOutcome): void; upTo(n: number): Promise<void> } {
  const list: BatchOutcome[] = [];
  let wake: (() => void) | undefined;
  return {
    list,
    add(o) {
      list.push(o);
      wake?.();
    },
    async upTo(n) {
      while (list.length < n) await new Promise<void>((resolve) => (wake = resolve));
    },
  };
}

test("batches of the mapping's size; reported failures come back after the visibility timeout", async (t) => {
  const q = queue({ visibilityTimeoutSeconds: 0.2 });
  for (const body of ["a", "b", "c"])
    q.send({
      body,
      attributes: body === "a" ? { kind: { DataType: "String", StringValue: "x" } } : undefined,
    });
  let failB = true;
  const handler = new Handler((event) => {
    const b = event.Records.find((r: any) => r.body === "b");
    if (b && failB) {
      failB = false;
      return { result: { batchItemFailures: [{ itemIdentifier: b.messageId }] } };
    }
    return { result: { batchItemFailures: [] } };
  });
  const seen = collector();
  const poller = new SqsPoller({
    queue: q,
    functionName: "worker",
    invoker: handler,
    batchSize: 2,
    reportBatchItemFailures: true,
    region: "us-east-1",
    concurrency: 1,
    onBatch: seen.add,
  });
  t.teardown(() => poller.close());
  poller.start();
  await seen.upTo(3);
  const bodies = handler.events.map((e) => e.Records.map((r: any) => r.body));
  t.deepEqual(bodies, [["a", "b"], ["c"], ["b"]]);
  t.deepEqual(
    seen.list.map((o) => [o.size, o.deleted, o.retried]),
    [
      [2, 1, 1],
      [1, 1, 0],
      [1, 1, 0],
    ],
  );
  const first = handler.events[0].Records[0];
  t.like(first, {
    body: "a",
    eventSource: "aws:sqs",
    eventSourceARN: q.arn,
    awsRegion: "us-east-1",
    md5OfBody: "0cc175b9c0f1b6a831c399e269772661",
  });
  t.deepEqual(first.messageAttributes, {
    kind: { stringValue: "x", stringListValues: [], binaryListValues: [], dataType: "String" },
  });
  t.is(first.attributes.ApproximateReceiveCount, "1");
  t.is(handler.events[2].Records[0].attributes.ApproximateReceiveCount, "2");
  t.deepEqual(q.counts(), { visible: 0, inFlight: 0, delayed: 0 });
});

test("without ReportBatchItemFailures a failed invocation retries the whole batch; past maxReceiveCount it goes to the DLQ", async (t) => {
  const dlq = queue({ name: "dead", arn: "arn:aws:sqs:us-east-1:000000000000:dead" });
  const q = queue({ visibilityTimeoutSeconds: 0.1, deadLetter: { queue: dlq, maxReceiveCount: 2 } });
  q.send({ body: "x" });
  q.send({ body: "y" });
  const handler = new Handler(() => ({ error: true }));
  const seen = collector();
  const poller = new SqsPoller({
    queue: q,
    functionName: "worker",
    invoker: handler,
    batchSize: 10,
    reportBatchItemFailures: false,
    region: "us-east-1",
    onBatch: seen.add,
  });
  t.teardown(() => poller.close());
  // The third receive finds both past maxReceiveCount: they move to the dead-letter queue.
  const moved = new Promise<void>((resolve) =>
    dlq.on("available", () => dlq.counts().visible === 2 && resolve()),
  );
  poller.start();
  await seen.upTo(2);
  await moved;
  t.deepEqual(
    seen.list.map((o) => [o.size, o.deleted, o.retried, o.error]),
    [
      [2, 0, 2, "Error: boom"],
      [2, 0, 2, "Error: boom"],
    ],
  );
  t.deepEqual(
    dlq.receive(10).map((m) => m.body),
    ["x", "y"],
  );
  t.is(handler.events.length, 2);
});
