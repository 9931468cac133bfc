import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SESSION_NAME } from "../core/names";
import { PROTOCOL_VERSION } from "../protocol/messages";
import { clientIdPrefix, topicPrefix } from "../protocol/topics";
import { Session } from "./session";

/** What every `LiveFunction` of a stack shares: names, the account and region, and (once live) the session. */
export interface StackContext {
  project: string;
  stack: string;
  /** Topic prefix of the stack. */
  prefix: string;
  /** Client id prefix of the stack. */
  clientPrefix: string;
  partition: pulumi.Output<string>;
  region: pulumi.Output<string>;
  accountId: pulumi.Output<string>;
  /** The stack's `Session`, created by the first live function that asks. */
  session(): Session;
}

// One context per engine connection and stack: a program runs one, tests run several in one process.
const contexts = new WeakMap<object, Map<string, StackContext>>();
const noMonitor = {};

/** The context of the stack being deployed. */
export function stackContext(): StackContext {
  const project = pulumi.getProject();
  const stack = pulumi.getStack();
  const id = `${project}\u0000${stack}`;
  const monitor = pulumi.runtime.getMonitor() ?? noMonitor;
  let known = contexts.get(monitor);
  if (!known) contexts.set(monitor, (known = new Map<string, StackContext>()));
  const existing = known.get(id);
  if (existing) return existing;
  const region = aws.getRegionOutput().region;
  let session: Session | undefined;
  const context: StackContext = {
    project,
    stack,
    prefix: topicPrefix(project, stack),
    clientPrefix: clientIdPrefix(project, stack),
    partition: aws.getPartitionOutput().partition,
    region,
    accountId: aws.getCallerIdentityOutput().accountId,
    session() {
      // Top level on purpose: parented to a function, it would move (and lose its key) with that function.
      session ??= new Session(SESSION_NAME, {
        prefix: context.prefix,
        clientPrefix: context.clientPrefix,
        endpoint: aws.iot.getEndpointOutput({ endpointType: "iot:Data-ATS" }).endpointAddress,
        region,
        project,
        stack,
        protocolVersion: PROTOCOL_VERSION,
      });
      return session;
    },
  };
  known.set(id, context);
  return context;
}
