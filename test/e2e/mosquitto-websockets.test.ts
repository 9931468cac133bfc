import { mosquittoAvailable, mosquittoRequired, startMosquitto } from "../helpers/mosquitto";
import { registerLoopTests } from "./loop";

// mosquitto's own WebSocket listener, with every case but the 5 MB one: it sends large messages to
// WebSocket clients at about 40 KB/s (eclipse-mosquitto/mosquitto#1390). mosquitto.test.ts runs all the
// cases, 5 MB included, through a WebSocket bridge to mosquitto's plain listener.
const available = mosquittoAvailable();
if (!available && mosquittoRequired) {
  throw new Error(
    "PULUMI_LIVE_REQUIRE_MOSQUITTO=1 but mosquitto is not installed: apt-get install -y mosquitto",
  );
}
registerLoopTests(
  { name: "mosquitto websockets", start: () => startMosquitto() },
  available
    ? undefined
    : "SKIPPED: mosquitto is not installed (apt-get install -y mosquitto); CI requires it.",
  { bigPayloads: false },
);
