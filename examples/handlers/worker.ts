/** The parts of an SQS event record this handler reads. */
interface SqsRecord {
  messageId: string;
  body: string;
  eventSourceARN?: string;
}

interface SqsEvent {
  Records: SqsRecord[];
}

/** Partial batch response: an empty list tells Lambda that every record succeeded. */
interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** SQS consumer: logs each record and reports no failures. */
export async function handler(event: SqsEvent): Promise<SqsBatchResponse> {
  for (const record of event.Records ?? []) {
    console.log(`message ${record.messageId}: ${record.body}`);
  }
  return { batchItemFailures: [] };
}
