import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SESSION_NAME } from "../core/names";
import { PROTOCOL_VERSION } from "../protocol/messages";
import { stackNamePrefix } from "../protocol/topics";
import { Session } from "./session";

/**
 * The organization when the engine does not say (older engines, the self-managed backends): the name the
 * pulumi CLI itself uses for those.
 */
export const DEFAULT_ORGANIZATION = "organization";

/** What every `LiveFunction` of a stack shares: names, the account and region, and (once live) the session. */
export interface StackContext {
  organization: string;
  project: string;
  stack: string;
  /**
   * What every topic prefix of this stack starts with, whatever its namespace id: the policy of a function
   * that is not live denies its topics under `<this>/*`.
   */
  namePrefix: string;
  partition: pulumi.Output<string>;
  region: pulumi.Output<string>;
  accountId: pulumi.Output<string>;
  /** The stack's `Session` (its namespace, key and endpoint), created by the first live function that asks. */
  session(): Session;
}

// One context per engine connection and stack: a program runs one, tests run several in one process.
const contexts = new WeakMap<object, Map<string, StackContext>>();
const noMonitor = {};

function organizationName(): string {
  try {
    return pulumi.getOrganization() || DEFAULT_ORGANIZATION;
  } catch {
    return DEFAULT_ORGANIZATION;
  }
}

/** The context of the stack being deployed. */
export function stackContext(): StackContext {
  const organization = organizationName();
  const project = pulumi.getProject();
  const stack = pulumi.getStack();
  const id = `${organization}\u0000${project}\u0000${stack}`;
  const monitor = pulumi.runtime.getMonitor() ?? noMonitor;
  let known = contexts.get(monitor);
  if (!known) contexts.set(monitor, (known = new Map<string, StackContext>()));
  const existing = known.get(id);
  if (existing) return existing;
  const region = aws.getRegionOutput().region;
  let session: Session | undefined;
  const context: StackContext = {
    organization,
    project,
    stack,
    namePrefix: stackNamePrefix({ organization, project, stack }),
    partition: aws.getPartitionOutput().partition,
    region,
    accountId: aws.getCallerIdentityOutput().accountId,
    session() {
      // Top level on purpose: parented to a function, it would move (and lose its key) with that function.
      session ??= new Session(SESSION_NAME, {
        organization,
        project,
        stack,
        endpoint: aws.iot.getEndpointOutput({ endpointType: "iot:Data-ATS" }).endpointAddress,
        region,
        protocolVersion: PROTOCOL_VERSION,
      });
      return session;
    },
  };
  known.set(id, context);
  return context;
}
