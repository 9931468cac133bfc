import { MAX_CONNECTION_BYTES_PER_SECOND, MAX_CONNECTION_PUBLISHES_PER_SECOND } from "./limits";

/**
 * What a sender keeps to of AWS IoT Core's per-connection quotas: a share of them, so that timing jitter
 * on the way (which bunches messages up) never pushes the broker's count over. IoT Core drops a publish
 * over its quota without an acknowledgement, so a sender that goes over loses messages; one that keeps
 * under loses none.
 */
export const PACE_SHARE = 0.9;

export interface PaceOptions {
  /** Publishes per second at most. @default 90% of IoT Core's 100 */
  perSecond?: number;
  /** Bytes per second at most. @default 90% of IoT Core's 512 KiB */
  bytesPerSecond?: number;
  /** How far ahead of the steady rate a burst may run (ms). @default 200 */
  burstMs?: number;
  now?: () => number;
}

/**
 * A pacer for one MQTT connection or one destination (a generic cell rate algorithm): each publish costs
 * the larger of its share of the publish rate and of the byte rate; a publish waits while those before it
 * run more than `burstMs` ahead of the steady rate. Reservations are taken in call order, so what is paced keeps
 * its order. Pure arithmetic: the caller sleeps.
 */
export class Pacer {
  private readonly msPerPublish: number;
  private readonly msPerByte: number;
  private readonly burstMs: number;
  private readonly now: () => number;
  /** When the reservations taken so far would have been sent at the steady rate (epoch ms). */
  private theoretical = 0;

  constructor(options: PaceOptions = {}) {
    this.msPerPublish = 1000 / (options.perSecond ?? MAX_CONNECTION_PUBLISHES_PER_SECOND * PACE_SHARE);
    this.msPerByte = 1000 / (options.bytesPerSecond ?? MAX_CONNECTION_BYTES_PER_SECOND * PACE_SHARE);
    this.burstMs = options.burstMs ?? 200;
    this.now = options.now ?? Date.now;
  }

  private cost(bytes: number): number {
    return Math.max(this.msPerPublish, bytes * this.msPerByte);
  }

  /** How long a publish would wait if reserved now (ms), without reserving it. */
  delay(): number {
    const now = this.now();
    return Math.max(0, this.theoretical - this.burstMs - now);
  }

  /** Reserves a publish of `bytes`; returns how long to wait before sending it (ms). */
  reserve(bytes: number): number {
    const wait = this.delay();
    this.theoretical = Math.max(this.theoretical, this.now()) + this.cost(bytes);
    return wait;
  }
}

/** Resolves after `ms` (at once for 0). */
export function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
