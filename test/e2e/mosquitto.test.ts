import { mosquittoAvailable, mosquittoRequired, startMosquitto } from "../helpers/mosquitto";
import { registerLoopTests } from "./loop";

const available = mosquittoAvailable();
if (!available && mosquittoRequired) {
  throw new Error(
    "PULUMI_LIVE_REQUIRE_MOSQUITTO=1 but mosquitto is not installed: apt-get install -y mosquitto",
  );
}
registerLoopTests(
  { name: "mosquitto (bridged)", start: () => startMosquitto({ bridge: true }) },
  available
    ? undefined
    : "SKIPPED: mosquitto is not installed (apt-get install -y mosquitto); CI requires it.",
);
