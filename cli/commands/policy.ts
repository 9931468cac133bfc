/** `pulumi-live policy`: the exact IAM policy the developer's identity needs to serve the selected stack. */
import { parseArgs } from "node:util";
import { developerPolicyDocument } from "../../sdk/iot-policy";
import { stackIotScope } from "../aws/iot-permissions";
import { readStack } from "../discovery/discover";
import type { CommandIo } from "./command-io";

export const POLICY_HELP = `Usage: pulumi-live policy [--stack NAME] [--cwd DIR]

Prints the IAM policy (JSON) that the AWS identity running pulumi-live serve needs for the stack: connect
with the stack's client ids and a last will, receive its requests and presence, publish its responses and
the retained presence. The account, region, topic prefix and client id prefix come from the stack
(pulumi stack export). Attach it to your IAM user or role, e.g.:

  pulumi-live policy > policy.json
  aws iam put-user-policy --user-name ME --policy-name pulumi-live-dev --policy-document file://policy.json

Options:
  --stack NAME   the Pulumi stack (default: the selected one)
  --cwd DIR      the Pulumi project folder (default: the current one)
  -h, --help     this help
`;

/** Runs `pulumi-live policy`; resolves with the exit code. Throws UserError for what the user can fix. */
export async function runPolicyCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    allowPositionals: false,
    options: {
      stack: { type: "string" },
      cwd: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(POLICY_HELP);
    return 0;
  }
  const record = await readStack({ stack: values.stack, cwd: values.cwd ?? io.cwd, env: io.env });
  io.stdout(JSON.stringify(developerPolicyDocument(stackIotScope(record)), null, 2) + "\n");
  return 0;
}
