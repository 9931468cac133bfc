import type { Duplex } from "node:stream";

/**
 * Where a local host puts a {@link StubTransport} on `globalThis` before it loads the stub bundle. The
 * bundle is a module graph of its own, so a registered symbol is the one name both sides can reach.
 */
export const STUB_TRANSPORT = Symbol.for("pulumi-live.stub-transport");

/**
 * A way to the MQTT broker other than a WebSocket, installed by `serve --local`'s environment threads:
 * a byte stream over the thread's port into serve's embedded broker. Deployed Lambda never has one; the
 * stub's MQTT (client id, password, topics) is the same over it.
 */
export interface StubTransport {
  /** What the stream reaches, for the stub's messages ("the embedded broker in serve's process ..."). */
  target: string;
  /** Opens a new byte stream to the broker, one per MQTT connection (reconnects open another). */
  open(): Duplex;
}

/** The transport the host installed, if any. */
export function installedStubTransport(): StubTransport | undefined {
  return (globalThis as { [STUB_TRANSPORT]?: StubTransport })[STUB_TRANSPORT];
}
