/** `pulumi-live policy`: the exact IAM policy the developer's identity needs to serve the selected stack. */
import { developerPolicyDocument } from "../../core/iot-policy";
import { stackIotScope } from "../aws/iot-permissions";
import { defineCommand } from "../command-line/command";
import { CWD_OPTION, STACK_OPTION } from "../command-line/definition";
import { readStack } from "../discovery/discover";

export const policyCommand = defineCommand<{ stack?: string; cwd?: string }>({
  name: "policy",
  summary: "the IAM policy your AWS identity needs to serve the stack",
  usage: ["[--stack NAME] [--cwd DIR]"],
  description:
    "Prints the IAM policy (JSON) that the AWS identity running pulumi-live serve needs for the stack: " +
    "connect with the stack's session client ids and a last will, receive its requests and presence, " +
    "publish its responses and the retained presence. The account, region, topic prefix and client id " +
    "prefix come from the stack (pulumi stack export). Attach it to the IAM user or role you serve as: " +
    "save it with pulumi-live policy > policy.json, then attach that file in the IAM console or with " +
    "aws iam put-user-policy (put-role-policy for a role).",
  options: [STACK_OPTION, CWD_OPTION],
  read: (args) => ({ stack: args.value("stack"), cwd: args.value("cwd") }),
  async run(options, io) {
    const record = await readStack({ stack: options.stack, cwd: options.cwd ?? io.cwd, env: io.env });
    io.stdout(JSON.stringify(developerPolicyDocument(stackIotScope(record)), null, 2) + "\n");
    return 0;
  },
});
