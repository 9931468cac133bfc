/**
 * Keeps one MQTT connection's publishes within AWS IoT Core's per-connection limits (100 publishes and
 * 512 KB per second, see DESIGN.md): a stream can produce far more, and IoT Core throttles or drops a
 * connection that goes over. Two token buckets, one for publishes and one for bytes; a publish waits
 * until both hold enough. Plain brokers (local mode) need none.
 */

export interface PublishLimits {
  publishesPerSecond: number;
  bytesPerSecond: number;
}

/** AWS IoT Core's limits per connection. */
export const IOT_CORE_LIMITS: PublishLimits = { publishesPerSecond: 100, bytesPerSecond: 512 * 1024 };

/** How much of a second's allowance may go at once: less than a whole second, so no window of one second sees more. */
const BURST_SECONDS = 0.5;

export class PublishPacer {
  private publishes: number;
  private bytes: number;
  private last: number;
  /** Publishes wait in the order they asked. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly limits: PublishLimits,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    this.publishes = limits.publishesPerSecond * BURST_SECONDS;
    this.bytes = limits.bytesPerSecond * BURST_SECONDS;
    this.last = now();
  }

  /** Resolves when a publish of `bytes` may go; a publish larger than the burst waits for a whole burst. */
  take(bytes: number): Promise<void> {
    const turn = this.queue.then(() => this.wait(bytes));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Lets every waiting and later publish go at once (the connection is closing). */
  close(): void {
    this.closed = true;
  }

  private async wait(bytes: number): Promise<void> {
    const capPublishes = this.limits.publishesPerSecond * BURST_SECONDS;
    const capBytes = this.limits.bytesPerSecond * BURST_SECONDS;
    const needBytes = Math.min(bytes, capBytes);
    for (;;) {
      if (this.closed) return;
      this.refill(capPublishes, capBytes);
      if (this.publishes >= 1 && this.bytes >= needBytes) {
        this.publishes -= 1;
        this.bytes -= needBytes;
        return;
      }
      const publishWait = this.publishes >= 1 ? 0 : (1 - this.publishes) / this.limits.publishesPerSecond;
      const byteWait = this.bytes >= needBytes ? 0 : (needBytes - this.bytes) / this.limits.bytesPerSecond;
      await this.sleep(Math.ceil(Math.max(publishWait, byteWait) * 1000));
    }
  }

  private refill(capPublishes: number, capBytes: number): void {
    const now = this.now();
    const seconds = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.publishes = Math.min(capPublishes, this.publishes + seconds * this.limits.publishesPerSecond);
    this.bytes = Math.min(capBytes, this.bytes + seconds * this.limits.bytesPerSecond);
  }
}
