import test from "ava";
import {
  developerPolicyDocument,
  stubDisabledPolicyDocument,
  stubPolicyDocument,
} from "../../core/iot-policy";
import { parseLiveValue } from "../../sdk/live-config";

const scope = {
  partition: "aws",
  region: "eu-west-1",
  accountId: "123456789012",
  prefix: "pulumi-live/acme/demo/dev/0a1b2c3d4e5f",
  stubClientPrefix: "pulumi-live-0123456789ab-stub-",
  sessionClientPrefix: "pulumi-live-0123456789ab-cli-",
};
const iot = "arn:aws:iot:eu-west-1:123456789012";

test("the stub's policy: its stack's stub clients only, its own requests, responses and presence", (t) => {
  t.deepEqual(stubPolicyDocument(scope, "api"), {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Connect",
        Effect: "Allow",
        Action: ["iot:Connect"],
        Resource: [`${iot}:client/pulumi-live-0123456789ab-stub-*`],
      },
      {
        Sid: "PublishRequests",
        Effect: "Allow",
        Action: ["iot:Publish"],
        Resource: [`${iot}:topic/pulumi-live/acme/demo/dev/0a1b2c3d4e5f/req/api`],
      },
      {
        Sid: "SubscribeResponsesAndPresence",
        Effect: "Allow",
        Action: ["iot:Subscribe"],
        Resource: [
          `${iot}:topicfilter/pulumi-live/acme/demo/dev/0a1b2c3d4e5f/res/api/*`,
          `${iot}:topicfilter/pulumi-live/acme/demo/dev/0a1b2c3d4e5f/presence`,
        ],
      },
      {
        Sid: "ReceiveResponsesAndPresence",
        Effect: "Allow",
        Action: ["iot:Receive"],
        Resource: [
          `${iot}:topic/pulumi-live/acme/demo/dev/0a1b2c3d4e5f/res/api/*`,
          `${iot}:topic/pulumi-live/acme/demo/dev/0a1b2c3d4e5f/presence`,
        ],
      },
    ],
  });
});

test("the policy while not live denies the function's own topics only, in every namespace of the stack", (t) => {
  t.deepEqual(stubDisabledPolicyDocument({ ...scope, prefix: "pulumi-live/acme/demo/dev/*" }, "api"), {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "NotLive",
        Effect: "Deny",
        Action: ["iot:Publish", "iot:Subscribe", "iot:Receive"],
        Resource: [
          `${iot}:topic/pulumi-live/acme/demo/dev/*/req/api`,
          `${iot}:topicfilter/pulumi-live/acme/demo/dev/*/res/api/*`,
          `${iot}:topic/pulumi-live/acme/demo/dev/*/res/api/*`,
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
        Resource: ["arn:aws-cn:iot:eu-west-1:123456789012:client/pulumi-live-0123456789ab-cli-*"],
        Condition: { "ForAllValues:StringEquals": { "iot:ConnectAttributes": ["LastWill"] } },
      },
      {
        Sid: "SubscribeRequestsAndPresence",
        Effect: "Allow",
        Action: ["iot:Subscribe"],
        Resource: [
          "arn:aws-cn:iot:eu-west-1:123456789012:topicfilter/pulumi-live/acme/demo/dev/0a1b2c3d4e5f/req/*",
          "arn:aws-cn:iot:eu-west-1:123456789012:topicfilter/$share/*/pulumi-live/acme/demo/dev/0a1b2c3d4e5f/req/*",
          "arn:aws-cn:iot:eu-west-1:123456789012:topicfilter/pulumi-live/acme/demo/dev/0a1b2c3d4e5f/presence",
        ],
      },
      {
        Sid: "ReceiveRequestsAndPresence",
        Effect: "Allow",
        Action: ["iot:Receive"],
        Resource: [
          "arn:aws-cn:iot:eu-west-1:123456789012:topic/pulumi-live/acme/demo/dev/0a1b2c3d4e5f/req/*",
          "arn:aws-cn:iot:eu-west-1:123456789012:topic/pulumi-live/acme/demo/dev/0a1b2c3d4e5f/presence",
        ],
      },
      {
        Sid: "PublishResponsesAndPresence",
        Effect: "Allow",
        Action: ["iot:Publish"],
        Resource: [
          "arn:aws-cn:iot:eu-west-1:123456789012:topic/pulumi-live/acme/demo/dev/0a1b2c3d4e5f/res/*",
          "arn:aws-cn:iot:eu-west-1:123456789012:topic/pulumi-live/acme/demo/dev/0a1b2c3d4e5f/presence",
        ],
      },
      {
        Sid: "RetainPresence",
        Effect: "Allow",
        Action: ["iot:RetainPublish"],
        Resource: [
          "arn:aws-cn:iot:eu-west-1:123456789012:topic/pulumi-live/acme/demo/dev/0a1b2c3d4e5f/presence",
        ],
      },
    ],
  });
});

test("the stub may not connect as a session, nor the developer as a stub", (t) => {
  const connect = (doc: { Statement: { Action: string[]; Resource: string[] }[] }) =>
    doc.Statement.filter((s) => s.Action.includes("iot:Connect")).flatMap((s) => s.Resource);
  const covers = (patterns: string[], id: string) =>
    patterns.some((p) => p.endsWith("*") && `${iot}:client/${id}`.startsWith(p.slice(0, -1)));
  const stub = connect(stubPolicyDocument(scope, "api"));
  const developer = connect(developerPolicyDocument(scope));
  t.true(covers(stub, `${scope.stubClientPrefix}0123456789ab`));
  t.false(covers(stub, `${scope.sessionClientPrefix}0123456789ab`));
  t.true(covers(developer, `${scope.sessionClientPrefix}0123456789ab`));
  t.false(covers(developer, `${scope.stubClientPrefix}0123456789ab`));
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
