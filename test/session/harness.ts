import {
  clientId,
  clientIdPrefix,
  environmentHash,
  topicPrefix,
  type RequestMessage,
  type StackNamespace,
} from "../../protocol";
import { MqttConnection } from "../../cli/mqtt-connection";
import type { SessionEvents, SessionOptions } from "../../cli/session";
import type { GoodBuild } from "../../cli/runtime/builder";

/** Session events that go nowhere; override the ones a test watches. */
export function quietEvents(overrides: Partial<SessionEvents> = {}): SessionEvents {
  return {
    invoke: () => undefined,
    result: () => undefined,
    drop: () => undefined,
    status: () => undefined,
    takeover: () => undefined,
    ...overrides,
  };
}

/** A namespace of its own for one test. */
export function testNamespace(project: string, stack = "test"): StackNamespace {
  return { organization: "test", project, stack, id: "0a1b2c3d4e5f" };
}

/** The topic prefix of a test's namespace. */
export function testPrefix(project: string, stack = "test"): string {
  return topicPrefix(testNamespace(project, stack));
}

/** A session's `connect` to a local broker, with session client ids of the (project, stack) given. */
export function connectTo(brokerUrl: string, project: string, stack = "test"): SessionOptions["connect"] {
  return (will, suffix) =>
    MqttConnection.connect({
      target: { kind: "broker", url: brokerUrl },
      clientId: clientId(clientIdPrefix(testNamespace(project, stack), "session"), suffix),
      will,
    });
}

/** A request for function `api` from execution environment `env1`, as a stub builds it. */
export function apiRequest(requestId: string, responseTopic: string, sessionId: string): RequestMessage {
  const environment = { A: "1" };
  return {
    type: "request",
    requestId,
    functionId: "api",
    envId: "env1",
    responseTopic,
    deadline: Date.now() + 10_000,
    event: {},
    context: {
      awsRequestId: requestId,
      functionName: "api",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:api",
      memoryLimitInMB: "128",
      logGroupName: "/aws/lambda/api",
      logStreamName: "s",
    },
    sessionId,
    envHash: environmentHash(environment),
    environment,
  };
}

/** A build that is ready and never run: for sessions whose runner is a test's own. */
export const READY_BUILD: GoodBuild = {
  ok: true,
  version: 1,
  file: "/dev/null",
  format: "cjs",
  entry: "api.ts",
  durationMs: 0,
  inputs: [],
};
