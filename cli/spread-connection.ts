import { Pacer, sleep, type PaceOptions } from "../protocol";
import type { MessageHandler, MqttConnection } from "./mqtt-connection";

/** What a `Session` needs of its MQTT connection: one connection, or several that look like one. */
export interface SessionConnection {
  subscribe(filter: string, onMessage: MessageHandler, atMostOnce?: boolean): Promise<void>;
  publish(topic: string, payload: Buffer, retain?: boolean): Promise<void>;
  /** Stops publishing retained messages to `topic` (a newer session took it over). */
  releaseRetained(topic: string): void;
  /** Calls `listener` after each reconnect that came without a session (subscriptions are restored). */
  onResumed(listener: () => void): () => void;
  close(): Promise<void>;
}

export interface SpreadOptions {
  /** How many connections. */
  count: number;
  /** Filters every connection takes a share of (a shared subscription); others go on the first only. */
  shared: string[];
  /** The shared subscriptions' group: one per session, so two sessions of a stack each get every request. */
  group: string;
  /** Opens connection `index`; the first carries the last will and the retained messages. */
  open(index: number): Promise<MqttConnection>;
  /** The quotas to keep to per connection and per destination topic. @default 90% of IoT Core's */
  pace?: PaceOptions;
}

/** Destination topics paced at once; the least recently used are forgotten past this. */
const MAX_PACED_TOPICS = 4096;

/**
 * One session over several MQTT connections, because one AWS IoT Core connection carries at most 100
 * messages and 512 KiB a second each way. Requests arrive through a shared subscription
 * (`$share/<group>/<filter>`): IoT Core hands each message to one connection of the group. Publishes
 * go on the connection that can send soonest, paced to its quota and to the destination's (a stub
 * receives on one connection, with the same quota): going faster would not be faster, as IoT Core drops
 * what is over a quota without a word. Only the first connection carries the last will and the
 * retained presence, so presence stays one message from one client.
 */
export class SpreadConnection implements SessionConnection {
  private readonly pacers: Pacer[];
  private readonly topicPacers = new Map<string, Pacer>();
  private closing?: Promise<void>;

  private constructor(
    private readonly connections: MqttConnection[],
    private readonly options: SpreadOptions,
  ) {
    this.pacers = connections.map(() => new Pacer(options.pace));
  }

  /** Opens every connection; if one fails, closes the others and rejects with its error. */
  static async connect(options: SpreadOptions): Promise<SpreadConnection> {
    const opened = await Promise.allSettled(
      Array.from({ length: Math.max(1, options.count) }, (_, index) => options.open(index)),
    );
    const failed = opened.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      await Promise.allSettled(opened.flatMap((r) => (r.status === "fulfilled" ? [r.value.close()] : [])));
      throw failed.reason;
    }
    return new SpreadConnection(
      opened.map((r) => (r as PromiseFulfilledResult<MqttConnection>).value),
      options,
    );
  }

  async subscribe(filter: string, onMessage: MessageHandler, atMostOnce = false): Promise<void> {
    if (this.connections.length === 1 || !this.options.shared.includes(filter)) {
      return this.connections[0].subscribe(filter, onMessage, atMostOnce);
    }
    const shared = `$share/${this.options.group}/${filter}`;
    await Promise.all(this.connections.map((c) => c.subscribe(shared, onMessage, atMostOnce)));
  }

  async publish(topic: string, payload: Buffer, retain = false): Promise<void> {
    const bytes = payload.length + Buffer.byteLength(topic);
    let index = 0;
    if (!retain) {
      for (let i = 1; i < this.pacers.length; i++)
        if (this.pacers[i].delay() < this.pacers[index].delay()) index = i;
    }
    const wait = Math.max(this.pacers[index].reserve(bytes), this.topicPacer(topic).reserve(bytes));
    await sleep(wait);
    await this.connections[index].publish(topic, payload, retain);
  }

  private topicPacer(topic: string): Pacer {
    let pacer = this.topicPacers.get(topic);
    if (pacer) this.topicPacers.delete(topic);
    else pacer = new Pacer(this.options.pace);
    this.topicPacers.set(topic, pacer);
    if (this.topicPacers.size > MAX_PACED_TOPICS)
      this.topicPacers.delete(this.topicPacers.keys().next().value!);
    return pacer;
  }

  releaseRetained(topic: string): void {
    this.connections[0].releaseRetained(topic);
  }

  /** The first connection's: it carries the presence, which its keeper reads again after a reconnect. */
  onResumed(listener: () => void): () => void {
    return this.connections[0].onResumed(listener);
  }

  /** Closes every connection, the one with the retained messages last; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled(this.connections.slice(1).map((c) => c.close()));
      await this.connections[0].close();
    })();
    return this.closing;
  }
}
