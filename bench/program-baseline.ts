/**
 * The baseline of the program-run bench, in a process of its own (the Pulumi SDK is process-global): the
 * demo program under Pulumi's in-process mocks (`pulumi.runtime.setMocks`), answered by the same
 * `mockState`/`mockCall` as local mode's engine and ended by the SDK's public `disconnect()`: what running
 * the program costs with no engine protocol at all. Tells its parent over IPC when it is done.
 */
import * as pulumi from "@pulumi/pulumi";
import { mockCall, mockState } from "../cli/program/mock-outputs";

const ctx = { region: "us-east-1", account: "000000000000", gatewayUrl: "http://127.0.0.1:3000" };

async function main(): Promise<void> {
  const [project, main] = process.argv.slice(2);
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const { id, state } = mockState(args.type, args.name, args.inputs as Record<string, unknown>, ctx);
        return { id: args.custom ? id : undefined, state };
      },
      call: (args) => mockCall(args.token, ctx) ?? {},
    },
    project,
    "local",
    false,
  );
  pulumi.runtime.setAllConfig({ [`${project}:live`]: "true" });
  await pulumi.runtime.runInPulumiStack(async () => require(main) as unknown);
  await pulumi.runtime.disconnect();
}

main().then(
  () => process.send!({ type: "done" }, () => process.exit(0)),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
