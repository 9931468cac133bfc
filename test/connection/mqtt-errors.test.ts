import test from "ava";
import { startBroker } from "../../cli/local/broker";
import { MqttConnection, type ConnectionStatus } from "../../cli/mqtt-connection";
import { Changes } from "../helpers/wait";

// Before, the client's `error` events went nowhere: a failure whose rejection someone caught (an ack
// that could not be sent, say) left no trace.
test("the MQTT client's error events reach the status callback", async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const statuses: ConnectionStatus[] = [];
  const changes = new Changes();
  const connection = await MqttConnection.connect({
    target: { kind: "broker", url: broker.url },
    clientId: "pulumi-live-test-errors",
    onStatus: (status) => {
      statuses.push(status);
      changes.changed();
    },
  });
  t.teardown(() => connection.close());
  // A filter with `#` before its end is not valid MQTT: aws-crt rejects it, and emits the error.
  await t.throwsAsync(connection.subscribe("a/#/b", () => undefined));
  await changes.until(
    () => statuses.some((s) => s.state === "failed"),
    () => `statuses: ${JSON.stringify(statuses)}`,
  );
  t.like(
    statuses.find((s) => s.state === "failed"),
    { state: "failed" },
  );
  t.regex(statuses.find((s) => s.state === "failed")?.detail ?? "", /\S/);
});
