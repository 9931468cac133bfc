import type { DeveloperScope } from "../../core/iot-policy";
import type { StackRecord } from "../discovery/discover";
import type { Refusal } from "../mqtt-connection";
import { UserError } from "../user-error";

/**
 * Where the stack's IoT resources live, from what the stack recorded: the account and partition from a
 * function's ARN, the region, topic prefix and the sessions' client id prefix from the `Session`.
 */
export function stackIotScope(record: StackRecord): DeveloperScope {
  const stackName = `${record.project}/${record.stack}`;
  if (!record.session) {
    throw new UserError(
      `The stack ${stackName} is not in live mode, so it has no IoT topics to grant access to. ` +
        "Deploy it in live mode first: pulumi config set live true && pulumi up",
    );
  }
  const arn = record.functions
    .map((f) => /^arn:([^:]+):lambda:[^:]*:(\d{12}):/.exec(f.functionArn))
    .find(Boolean);
  if (!arn) {
    throw new UserError(
      `The stack ${stackName} records no function ARN to read its AWS account from. Deploy it again with ` +
        "this version of pulumi-live: pulumi up",
    );
  }
  const { region, prefix, sessionClientPrefix } = record.session;
  return { partition: arn[1], accountId: arn[2], region, prefix, sessionClientPrefix };
}

/** The command that prints the policy, with the `--stack` given if any. */
export function policyCommand(stack?: string): string {
  return `pulumi-live policy${stack ? ` --stack ${stack}` : ""}`;
}

/**
 * What to tell a developer whose identity IoT refused: the permission missing, on which resource, and the
 * command that prints the policy to attach.
 */
export function explainRefusal(scope: DeveloperScope, stack: string | undefined, refused: Refusal): string {
  const arn = (kind: string, rest: string) =>
    `arn:${scope.partition}:iot:${scope.region}:${scope.accountId}:${kind}/${rest}`;
  const fix =
    `Print the IAM policy your identity needs for this stack with: ${policyCommand(stack)}  and attach it to ` +
    "the IAM user or role you serve as (or ask your AWS administrator to).";
  if (refused.kind === "connect") {
    const attribute = refused.will
      ? ' with the "LastWill" connect attribute allowed (iot:ConnectAttributes)'
      : "";
    return (
      `AWS IoT refused the connection as ${refused.clientId}: your AWS identity needs iot:Connect on ` +
      `${arn("client", refused.clientId)}${attribute}. ${fix}`
    );
  }
  const topic = refused.filter.replace(/^\$share\/[^/]+\//, "");
  return (
    `AWS IoT refused the subscription to ${refused.filter}: your AWS identity needs iot:Subscribe on ` +
    `${arn("topicfilter", refused.filter)} and iot:Receive on ${arn("topic", topic.replace(/\+/g, "*"))}. ${fix}`
  );
}
