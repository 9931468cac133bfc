import { hostname } from "node:os";
import {
  PROTOCOL_VERSION,
  Reassembler,
  encodeMessage,
  readPresence,
  type PresenceMessage,
} from "../protocol";
import type { SessionConnection } from "./spread-connection";
import {
  initialPresence,
  presenceTransition,
  type PresenceEvent,
  type PresenceState,
} from "./session-presence";
import type { SessionEvents } from "./session-types";

export interface PresenceKeeperOptions {
  sessionId: string;
  startedAt: number;
  key: Buffer;
  /** The stack's presence topic. */
  topic: string;
  /** Function ids the session serves, announced with its presence. */
  functions: string[];
  events: Pick<SessionEvents, "takeover" | "status">;
  /** See `SessionOptions`. */
  joinWaitMs?: number;
  repairIntervalMs?: number;
  presenceCheckMs?: number;
}

/**
 * Keeps one session's presence on the stack's presence topic: reads what the topic holds, announces,
 * repairs, reads again after a reconnect and from time to time, and says when a newer session took over.
 * The decisions are `presenceTransition`'s (see `session-presence.ts`); this class runs the timers and
 * the publishes.
 */
export class PresenceKeeper {
  /** Repairs scheduled, and unopenable payloads seen on the topic. */
  readonly counters = { repaired: 0, garbage: 0 };
  private state: PresenceState;
  private connection?: SessionConnection;
  private readonly reader: Reassembler;
  private settleTimer?: NodeJS.Timeout;
  private repairTimer?: NodeJS.Timeout;
  private checkTimer?: NodeJS.Timeout;
  private lastAnnounced = 0;
  private joined?: () => void;

  constructor(private readonly options: PresenceKeeperOptions) {
    this.state = initialPresence(options.sessionId, options.startedAt);
    this.reader = new Reassembler(options.key);
  }

  get phase(): PresenceState["phase"] {
    return this.state.phase;
  }

  get epoch(): number {
    return this.state.epoch;
  }

  /** Whether this session still owns the stack (it was not taken over). */
  get owns(): boolean {
    return this.state.phase !== "taken-over";
  }

  /**
   * The sealed presence message of this session. The last will is sealed with the provisional epoch: a
   * will always says offline, and stubs order by session, so an epoch raised while joining does not matter.
   */
  seal(online: boolean): Buffer {
    const presence: PresenceMessage = {
      type: "presence",
      sessionId: this.options.sessionId,
      epoch: this.state.epoch,
      online,
      ...(online && this.state.draining ? { draining: true } : {}),
      protocol: PROTOCOL_VERSION,
      functions: online ? this.options.functions : [],
      startedAt: this.options.startedAt,
      host: hostname(),
      pid: process.pid,
    };
    // Presence always fits one frame: a few hundred bytes.
    return encodeMessage(this.options.key, this.options.topic, presence)[0];
  }

  /** Subscribes to the topic, reads what it holds, announces; resolves once this session joined. */
  async join(connection: SessionConnection): Promise<void> {
    this.connection = connection;
    connection.onResumed(() => this.apply({ kind: "resumed" }));
    const joined = new Promise<void>((resolve) => (this.joined = resolve));
    await this.subscribe();
    this.waitToSettle();
    await joined;
    this.scheduleCheck();
  }

  /** Says draining (when requests are under way), then stops keeping the presence. */
  stop(draining: boolean): void {
    if (draining && this.owns) this.apply({ kind: "draining" });
    this.apply({ kind: "closing" });
    this.stopTimers();
  }

  // QoS 0: see MqttConnection.subscribe.
  private subscribe(): Promise<void> {
    return this.connection!.subscribe(
      this.options.topic,
      (_topic, payload, retained) => this.onFrame(payload, retained),
      true,
    );
  }

  private onFrame(payload: Buffer, retained: boolean): void {
    const reading = readPresence(this.reader, this.options.topic, payload);
    if (reading.kind === "garbage") this.counters.garbage++;
    this.apply({ kind: "reading", reading, retained });
  }

  /** Applies one event and does what it asks for. */
  private apply(event: PresenceEvent): void {
    const before = this.state.phase;
    const { state, action } = presenceTransition(this.state, event);
    this.state = state;
    if (state.phase === "rejoining" && before !== "rejoining") this.waitToSettle();
    if (state.phase !== "joining" && state.phase !== "rejoining") clearTimeout(this.settleTimer);
    if (before === "joining" && state.phase !== "joining") this.joined?.();
    switch (action.kind) {
      case "announce":
        this.announce();
        return;
      case "repair":
        this.counters.repaired++;
        this.scheduleRepair();
        return;
      case "yield":
        this.stopTimers();
        try {
          this.options.events.takeover({ sessionId: action.to.sessionId, host: action.to.host });
        } catch (error) {
          this.status(`takeover report failed: ${String(error)}`);
        }
        return;
      case "none":
        return;
    }
  }

  private waitToSettle(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.apply({ kind: "settled" }), this.options.joinWaitMs ?? 500);
  }

  private announce(): void {
    clearTimeout(this.repairTimer);
    this.repairTimer = undefined;
    this.lastAnnounced = Date.now();
    this.connection
      ?.publish(this.options.topic, this.seal(true), true)
      .catch((error: Error) => this.status(`could not announce the session: ${error.message}`));
  }

  /** Announces again at most once per repair interval, so nobody can make this session flood the topic. */
  private scheduleRepair(): void {
    if (this.repairTimer) return;
    const interval = this.options.repairIntervalMs ?? 1000;
    const wait = Math.max(0, this.lastAnnounced + interval - Date.now());
    this.repairTimer = setTimeout(() => {
      this.repairTimer = undefined;
      if (this.state.phase === "serving") this.announce();
    }, wait);
  }

  /**
   * Reads the retained presence again from time to time (subscribing again makes the broker send it):
   * a newer session's announcement lost on the way, or a retained message replaced while this session
   * did not see it, is noticed within one period.
   */
  private scheduleCheck(): void {
    this.checkTimer = setTimeout(() => {
      if (this.state.phase === "taken-over" || this.state.phase === "closing") return;
      this.subscribe()
        .catch((error: Error) => this.status(`could not read the presence again: ${error.message}`))
        .finally(() => {
          if (this.state.phase !== "closing") this.scheduleCheck();
        });
    }, this.options.presenceCheckMs ?? 60_000);
    this.checkTimer.unref?.();
  }

  private stopTimers(): void {
    clearTimeout(this.settleTimer);
    clearTimeout(this.repairTimer);
    clearTimeout(this.checkTimer);
    this.repairTimer = undefined;
  }

  private status(message: string): void {
    try {
      this.options.events.status({ message });
    } catch {
      // the reporter failing too must not become an unhandled rejection
    }
  }
}
