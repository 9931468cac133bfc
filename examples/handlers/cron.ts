/** The parts of a scheduled EventBridge event this handler reads. */
interface ScheduledEvent {
  time?: string;
  "detail-type"?: string;
}

/** Scheduled EventBridge handler: logs when the schedule fired. */
export async function handler(event: ScheduledEvent): Promise<void> {
  console.log(`scheduled event at ${event.time ?? new Date().toISOString()}`);
}
