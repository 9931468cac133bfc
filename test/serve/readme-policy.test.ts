import test from "ava";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { developerPolicyDocument } from "../../core/iot-policy";

test('the README\'s "Serve from your machine" policy is developerPolicyDocument for the demo stack', async (t) => {
  const text = await readFile(path.join(__dirname, "../../../README.md"), "utf8");
  const section = text.slice(text.indexOf("## Serve from your machine"));
  const block = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
  t.deepEqual(
    JSON.parse(block ?? "null"),
    developerPolicyDocument({
      partition: "aws",
      region: "eu-west-1",
      accountId: "123456789012",
      prefix: "pulumi-live/acme/pulumi-live-demo/dev/0a1b2c3d4e5f",
      sessionClientPrefix: "pulumi-live-155a5a236ed0-cli-",
    }),
  );
});
