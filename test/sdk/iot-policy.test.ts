import test from "ava";
import {
  developerPolicyDocument,
  stubDisabledPolicyDocument,
  stubPolicyDocument,
} from "../../sdk/iot-policy";
import { parseLiveValue } from "../../sdk/live-config";

const scope = {
  partition: "aws",
  region: "eu-west-1",
  accountId: "123456789012",
  prefix: "pulumi-live/demo/dev",
  clientPrefix: "pulumi-live-0123456789ab-",
};
const iot = "arn:aws:iot:eu-west-1:123456789012";

test("the stub's policy: its stack's clients, its own requests, responses and presence", (t) => {
  t.deepEqual(stubPolicyDocument(scope, "api"), {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Connect",
        Effect: "Allow",
        Action: ["iot:Connect"],
        Resource: [`${iot}:client/pulumi-live-0123456789ab-*`],
      },
      {
        Sid: "PublishRequests",
        Effect: "Allow",
        Action: ["iot:Publish"],
        Resource: [`${iot}:topic/pulumi-live/demo/dev/req/api`],
      },
      {
        Sid: "SubscribeResponsesAndPresence",
        Effect: "Allow",
        Action: ["iot:Subscribe"],
        Resource: [
          `${iot}:topicfilter/pulumi-live/demo/dev/res/api/*`,
          `${iot}:topicfilter/pulumi-live/demo/dev/presence`,
        ],
      },
      {
        Sid: "ReceiveResponsesAndPresence",
        Effect: "Allow",
        Action: ["iot:Receive"],
        Resource: [
          `${iot}:topic/pulumi-live/demo/dev/res/api/*`,
          `${iot}:topic/pulumi-live/demo/dev/presence`,
        ],
      },
    ],
  });
});

test("the policy while not live denies the function's own topics only", (t) => {
  t.deepEqual(stubDisabledPolicyDocument(scope, "api"), {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "NotLive",
        Effect: "Deny",
        Action: ["iot:Publish", "iot:Subscribe", "iot:Receive"],
        Resource: [
          `${iot}:topic/pulumi-live/demo/dev/req/api`,
          `${iot}:topicfilter/pulumi-live/demo/dev/res/api/*`,
          `${iot}:topic/pulumi-live/demo/dev/res/api/*`,
        ],
      },
    ],
  });
});

test("the developer's policy: last will allowed, requests in, responses and retained presence out", (t) => {
  t.deepEqual(developerPolicyDocument({ ...scope, partition: "aws-cn" }), {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ConnectWithLastWill",
        Effect: "Allow",
        Action: ["iot:Connect"],
        Resource: ["arn:aws-cn:iot:eu-west-1:123456789012:client/pulumi-live-0123456789ab-*"],
        Condition: { "ForAllValues:StringEquals": { "iot:ConnectAttributes": ["LastWill"] } },
      },
      {
        Sid: "SubscribeRequestsAndPresence",
        Effect: "Allow",
        Action: ["iot:Subscribe"],
        Resource: [
          "arn:aws-cn:iot:eu-west-1:123456789012:topicfilter/pulumi-live/demo/dev/req/*",
          "arn:aws-cn:iot:eu-west-1:123456789012:topicfilter/$share/*/pulumi-live/demo/dev/req/*",
          "arn:aws-cn:iot:eu-west-1:123456789012:topicfilter/pulumi-live/demo/dev/presence",
        ],
      },
      {
        Sid: "ReceiveRequestsAndPresence",
        Effect: "Allow",
        Action: ["iot:Receive"],
        Resource: [
          "arn:aws-cn:iot:eu-west-1:123456789012:topic/pulumi-live/demo/dev/req/*",
          "arn:aws-cn:iot:eu-west-1:123456789012:topic/pulumi-live/demo/dev/presence",
        ],
      },
      {
        Sid: "PublishResponsesAndPresence",
        Effect: "Allow",
        Action: ["iot:Publish"],
        Resource: [
          "arn:aws-cn:iot:eu-west-1:123456789012:topic/pulumi-live/demo/dev/res/*",
          "arn:aws-cn:iot:eu-west-1:123456789012:topic/pulumi-live/demo/dev/presence",
        ],
      },
      {
        Sid: "RetainPresence",
        Effect: "Allow",
        Action: ["iot:RetainPublish"],
        Resource: ["arn:aws-cn:iot:eu-west-1:123456789012:topic/pulumi-live/demo/dev/presence"],
      },
    ],
  });
});

test("no policy grants iot:* or Resource *", (t) => {
  const docs = [
    stubPolicyDocument(scope, "api"),
    stubDisabledPolicyDocument(scope, "api"),
    developerPolicyDocument(scope),
  ];
  const statements = docs.flatMap((d) => d.Statement);
  t.deepEqual(
    statements.filter((s) => s.Action.some((a) => a.includes("*")) || s.Resource.includes("*")),
    [],
  );
});

test("the live config accepts these spellings and nothing else", (t) => {
  const parsed = [undefined, "", " TRUE ", "1", "yes", "on", "false", "0", "No", "off", "maybe", "2"].map(
    parseLiveValue,
  );
  t.deepEqual(parsed, [
    false,
    false,
    true,
    true,
    true,
    true,
    false,
    false,
    false,
    false,
    undefined,
    undefined,
  ]);
});
