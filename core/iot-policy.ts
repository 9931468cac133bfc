/**
 * IAM policy documents for AWS IoT Core access (decision 2 of the design: least privilege). Pure functions:
 * the component and the README both use them, and the tests pin their exact output.
 *
 * For IAM principals (a Lambda role, a developer's credentials) IoT access is granted by IAM policy;
 * `aws.iot.Policy` is for device certificates and is not involved.
 */

/** Where a stack's IoT resources live. */
export interface IotScope {
  /** `aws`, `aws-cn`, `aws-us-gov`. */
  partition: string;
  region: string;
  accountId: string;
  /** Topic prefix of the stack (`topicPrefix(namespace)`, the `Session`'s `prefix`). */
  prefix: string;
}

/** A stub's scope: its stack's topics and the stubs' client id prefix (`clientIdPrefix(namespace, "stub")`). */
export interface StubScope extends IotScope {
  stubClientPrefix: string;
}

/** The developer's scope: the stack's topics and the sessions' client id prefix. */
export interface DeveloperScope extends IotScope {
  sessionClientPrefix: string;
}

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

function arn(scope: IotScope, kind: "client" | "topic" | "topicfilter", rest: string): string {
  return `arn:${scope.partition}:iot:${scope.region}:${scope.accountId}:${kind}/${rest}`;
}

/**
 * What the relay stub of one function may do: connect with its stack's stub client ids only (never a
 * session's, which would disconnect the session; no last will, so no connect-attribute condition),
 * publish its own requests, and subscribe to/receive its own responses and the stack's presence.
 */
export function stubPolicyDocument(scope: StubScope, functionId: string): PolicyDocument {
  const { prefix } = scope;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Connect",
        Effect: "Allow",
        Action: ["iot:Connect"],
        Resource: [arn(scope, "client", `${scope.stubClientPrefix}*`)],
      },
      {
        Sid: "PublishRequests",
        Effect: "Allow",
        Action: ["iot:Publish"],
        Resource: [arn(scope, "topic", `${prefix}/req/${functionId}`)],
      },
      {
        Sid: "SubscribeResponsesAndPresence",
        Effect: "Allow",
        Action: ["iot:Subscribe"],
        Resource: [
          arn(scope, "topicfilter", `${prefix}/res/${functionId}/*`),
          arn(scope, "topicfilter", `${prefix}/presence`),
        ],
      },
      {
        Sid: "ReceiveResponsesAndPresence",
        Effect: "Allow",
        Action: ["iot:Receive"],
        Resource: [
          arn(scope, "topic", `${prefix}/res/${functionId}/*`),
          arn(scope, "topic", `${prefix}/presence`),
        ],
      },
    ],
  };
}

/**
 * The same child policy while a function is not live: it denies exactly the function's own request and
 * response topics, so the role's policy resource exists in both modes (no URN changes on a toggle) and
 * grants nothing. Connect and presence are left out on purpose: a role shared with a live function still
 * needs them, and an explicit Deny would override that function's Allow. With no `Session` there is no
 * namespace id: `scope.prefix` is then `<stackNamePrefix>/*`, every namespace of the stack.
 */
export function stubDisabledPolicyDocument(scope: IotScope, functionId: string): PolicyDocument {
  const { prefix } = scope;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "NotLive",
        Effect: "Deny",
        Action: ["iot:Publish", "iot:Subscribe", "iot:Receive"],
        Resource: [
          arn(scope, "topic", `${prefix}/req/${functionId}`),
          arn(scope, "topicfilter", `${prefix}/res/${functionId}/*`),
          arn(scope, "topic", `${prefix}/res/${functionId}/*`),
        ],
      },
    ],
  };
}

/**
 * What the developer running `pulumi-live serve` needs: connect with the stack's session client ids using
 * a last will (the `LastWill` connect attribute must be allowed, or IoT refuses the connection), subscribe
 * to and receive every request of the stack, publish responses, and publish the retained presence message
 * (`iot:RetainPublish` on top of `iot:Publish`).
 */
export function developerPolicyDocument(scope: DeveloperScope): PolicyDocument {
  const { prefix } = scope;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ConnectWithLastWill",
        Effect: "Allow",
        Action: ["iot:Connect"],
        Resource: [arn(scope, "client", `${scope.sessionClientPrefix}*`)],
        Condition: { "ForAllValues:StringEquals": { "iot:ConnectAttributes": ["LastWill"] } },
      },
      {
        // The session watches presence too: `status`, and a newer session taking over. It takes requests
        // through a shared subscription over several connections (`$share/<session>/<prefix>/req/+`), as
        // one connection's quota is 100 messages a second.
        Sid: "SubscribeRequestsAndPresence",
        Effect: "Allow",
        Action: ["iot:Subscribe"],
        Resource: [
          arn(scope, "topicfilter", `${prefix}/req/*`),
          arn(scope, "topicfilter", `$share/*/${prefix}/req/*`),
          arn(scope, "topicfilter", `${prefix}/presence`),
        ],
      },
      {
        Sid: "ReceiveRequestsAndPresence",
        Effect: "Allow",
        Action: ["iot:Receive"],
        Resource: [arn(scope, "topic", `${prefix}/req/*`), arn(scope, "topic", `${prefix}/presence`)],
      },
      {
        Sid: "PublishResponsesAndPresence",
        Effect: "Allow",
        Action: ["iot:Publish"],
        Resource: [arn(scope, "topic", `${prefix}/res/*`), arn(scope, "topic", `${prefix}/presence`)],
      },
      {
        Sid: "RetainPresence",
        Effect: "Allow",
        Action: ["iot:RetainPublish"],
        Resource: [arn(scope, "topic", `${prefix}/presence`)],
      },
    ],
  };
}
