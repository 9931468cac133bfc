/**
 * The outputs Pulumi's mocks give the program's resources: named after the resource, with ARNs of the
 * local account and region, and URLs of function URLs, HTTP APIs and queues pointing at the local
 * gateway — so a handler's configuration is readable, and a handler that sends to a queue of the program
 * reaches the local queue. Pure functions.
 */
import { placeholder } from "./placeholders";

export interface MockContext {
  region: string;
  account: string;
  gatewayUrl: string;
}

/** `aws:sqs/queue:Queue` → `sqs`; the ARN service of the module. */
function service(type: string): string {
  const module = /^aws:([^/]+)\//.exec(type)?.[1] ?? "local";
  return { cloudwatch: "events", apigatewayv2: "apigateway", lb: "elasticloadbalancing" }[module] ?? module;
}

/** `api-fn` of the component `api` keeps the component's name: the name the gateway serves it under. */
export function physicalName(name: string, inputs: Record<string, any>, owner?: string): string {
  if (typeof inputs.name === "string" && inputs.name) return inputs.name;
  return owner ?? name;
}

export function mockState(
  type: string,
  name: string,
  inputs: Record<string, any>,
  ctx: MockContext,
  owner?: string,
): { id: string; state: Record<string, any> } {
  const { region, account, gatewayUrl } = ctx;
  const physical = physicalName(name, inputs, owner);
  const arn = (resource: string) => `arn:aws:${service(type)}:${region}:${account}:${resource}`;
  const common = { ...inputs, name: physical, arn: arn(physical) };
  switch (type) {
    case "aws:lambda/function:Function": {
      const fnArn = arn(`function:${physical}`);
      const state = {
        ...common,
        arn: fnArn,
        qualifiedArn: `${fnArn}:$LATEST`,
        invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${fnArn}/invocations`,
        version: "$LATEST",
      };
      return { id: physical, state };
    }
    case "aws:lambda/functionUrl:FunctionUrl": {
      const target = String(inputs.functionName ?? "").replace(/^.*:function:/, "");
      return {
        id: target,
        state: { ...inputs, functionUrl: `${gatewayUrl}/${encodeURIComponent(target)}/`, urlId: target },
      };
    }
    case "aws:sqs/queue:Queue": {
      const queue = inputs.fifoQueue && !physical.endsWith(".fifo") ? `${physical}.fifo` : physical;
      const url = `${gatewayUrl}/${account}/${encodeURIComponent(queue)}`;
      return { id: url, state: { ...common, name: queue, arn: arn(queue), url } };
    }
    case "aws:apigatewayv2/api:Api":
      return {
        id: physical,
        state: {
          ...common,
          apiEndpoint: `${gatewayUrl}/${encodeURIComponent(physical)}`,
          executionArn: `arn:aws:execute-api:${region}:${account}:${physical}`,
          arn: `arn:aws:apigateway:${region}::/apis/${physical}`,
        },
      };
    case "aws:cloudwatch/eventRule:EventRule":
      return { id: physical, state: { ...common, arn: arn(`rule/${physical}`) } };
    case "aws:dynamodb/table:Table":
      return {
        id: physical,
        state: { ...common, arn: arn(`table/${physical}`), streamArn: arn(`table/${physical}/stream/local`) },
      };
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2": {
      const bucket = typeof inputs.bucket === "string" ? inputs.bucket : physical;
      const s3 = { bucket, arn: `arn:aws:s3:::${bucket}`, bucketDomainName: `${bucket}.s3.amazonaws.com` };
      return {
        id: bucket,
        state: { ...inputs, ...s3, bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com` },
      };
    }
    case "aws:iam/role:Role":
    case "aws:iam/policy:Policy":
    case "aws:iam/user:User":
      return {
        id: physical,
        state: {
          ...common,
          arn: `arn:aws:iam::${account}:${type.split(":").pop()!.toLowerCase()}/${physical}`,
        },
      };
    case "aws:sns/topic:Topic":
      return { id: arn(physical), state: common };
    default:
      return { id: physical, state: common };
  }
}

/** Results of the lookups programs commonly make; `undefined` for one local mode cannot answer. */
export function mockCall(token: string, ctx: MockContext): Record<string, unknown> | undefined {
  const { region, account } = ctx;
  switch (token) {
    case "aws:index/getRegion:getRegion":
      return {
        id: region,
        name: region,
        region,
        description: region,
        endpoint: `ec2.${region}.amazonaws.com`,
      };
    case "aws:index/getPartition:getPartition":
      return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return {
        id: account,
        accountId: account,
        arn: `arn:aws:iam::${account}:user/pulumi-live-local`,
        userId: "AIDALOCAL",
      };
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return {
        id: region,
        names: ["a", "b", "c"].map((z) => region + z),
        zoneIds: ["1", "2", "3"].map((z) => `local-az${z}`),
      };
    case "aws:iot/getEndpoint:getEndpoint":
      return {
        id: "local",
        endpointAddress: `local-ats.iot.${region}.amazonaws.com`,
        endpointType: "iot:Data-ATS",
      };
    case "aws:ssm/getParameter:getParameter":
      return {
        id: "local",
        value: placeholder(`lookup ${token}`),
        insecureValue: placeholder(`lookup ${token}`),
      };
    case "aws:secretsmanager/getSecretVersion:getSecretVersion":
      return { id: "local", secretString: placeholder(`lookup ${token}`) };
    default:
      return undefined;
  }
}
