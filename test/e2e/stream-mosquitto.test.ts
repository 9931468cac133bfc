import { mosquittoAvailable, mosquittoRequired, startMosquitto } from "../helpers/mosquitto";
import { registerStreamTests } from "./stream-loop";

// Through the WebSocket bridge to mosquitto's plain listener, as mosquitto.test.ts: mosquitto's own
// WebSocket listener sends large messages at about 40 KB/s (eclipse-mosquitto/mosquitto#1390), and a
// stream's chunks are large messages.
const available = mosquittoAvailable();
if (!available && mosquittoRequired) {
  throw new Error(
    "PULUMI_LIVE_REQUIRE_MOSQUITTO=1 but mosquitto is not installed: apt-get install -y mosquitto",
  );
}
registerStreamTests(
  { name: "mosquitto (bridged), streaming", start: () => startMosquitto({ bridge: true }) },
  available
    ? undefined
    : "SKIPPED: mosquitto is not installed (apt-get install -y mosquitto); CI requires it.",
);
