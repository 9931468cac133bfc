import { runSimulation, runUnsafeSimulation } from "@cloud-copilot/iam-simulate";

/** An IAM policy document as the component and the README write them. */
export interface PolicyDocument {
  Version: string;
  Statement: unknown[];
}

/** Credentials the stand-in knows, and the principal they sign as. */
export interface Identity {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials (STS) carry one; it must come with every request. */
  sessionToken?: string;
  /** After this, handshakes signed with these credentials are refused. */
  expiration?: Date;
  /** `arn:aws:iam::ACCOUNT:user/NAME` or `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`. */
  principal: string;
  /** The principal's identity policies, by name: exactly what is attached to it. */
  policies: Record<string, PolicyDocument>;
}

export type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

/**
 * The principals of the stand-in's account, and IAM's decision for each IoT request they make, by
 * @cloud-copilot/iam-simulate over their identity policies (no resource policies: IoT Core has none for
 * IAM principals). Policies are validated when an identity is added; a decision is cached per request.
 */
export class Principals {
  private readonly byKey = new Map<string, Identity>();
  private readonly decisions = new Map<string, Decision>();

  constructor(readonly accountId: string) {}

  /** Adds (or replaces) credentials; rejects policies IAM would refuse to store. */
  async add(identity: Identity): Promise<void> {
    for (const [name, policy] of Object.entries(identity.policies)) {
      const check = await runSimulation(
        {
          identityPolicies: [{ name, policy }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          request: {
            action: "iot:Connect",
            principal: identity.principal,
            resource: {
              accountId: this.accountId,
              resource: `arn:aws:iot:us-east-1:${this.accountId}:client/x`,
            },
            contextVariables: {},
          },
        },
        {},
      );
      if (check.resultType === "error") {
        throw new Error(
          `policy ${name} of ${identity.principal} is not valid: ${JSON.stringify(check.errors)}`,
        );
      }
    }
    this.forget(identity.accessKeyId);
    this.byKey.set(identity.accessKeyId, identity);
  }

  get(accessKeyId: string): Identity | undefined {
    return this.byKey.get(accessKeyId);
  }

  /** Makes the credentials expire now: new handshakes with them are refused. */
  expire(accessKeyId: string): void {
    const identity = this.byKey.get(accessKeyId);
    if (identity) identity.expiration = new Date(Date.now() - 1);
  }

  private forget(accessKeyId: string): void {
    for (const key of this.decisions.keys())
      if (key.startsWith(`${accessKeyId}\u0000`)) this.decisions.delete(key);
  }

  /**
   * IAM's decision for `action` on `resource` with the request's context keys (such as
   * `iot:ConnectAttributes`). The unsafe entry point evaluates exactly the keys given: the checked one
   * drops keys its action catalogue does not list, and it does not list IoT's connect attributes.
   */
  decide(
    identity: Identity,
    action: string,
    resource: string,
    context: Record<string, string | string[]> = {},
  ): Decision {
    const cacheKey = `${identity.accessKeyId}\u0000${action}\u0000${resource}\u0000${JSON.stringify(context)}`;
    let decision = this.decisions.get(cacheKey);
    if (!decision) {
      decision = runUnsafeSimulation(
        {
          identityPolicies: Object.entries(identity.policies).map(([name, policy]) => ({ name, policy })),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          request: {
            action,
            principal: identity.principal,
            resource: { accountId: this.accountId, resource },
            contextVariables: context,
          },
        },
        {},
      );
      if (this.decisions.size > 50_000) this.decisions.clear();
      this.decisions.set(cacheKey, decision);
    }
    return decision;
  }
}
