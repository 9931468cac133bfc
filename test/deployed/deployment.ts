import { readFile } from "node:fs/promises";
import { decodeSecrets } from "../../cli/discovery/stack-export";
import type { PolicyDocument } from "../iot-core/stand-in";

/** One deployed function as the stack recorded it: what Lambda would run, and as whom. */
export interface DeployedFunction {
  /** The LiveFunction's logical name (`api`). */
  name: string;
  functionId: string;
  /** The physical name (`api-fn-538caa4`), as AWS_LAMBDA_FUNCTION_NAME. */
  functionName: string;
  functionArn: string;
  /** `index.handler`. */
  handler: string;
  /** The archive's files, as the component built them. */
  files: Record<string, string>;
  /** The function's environment variables, as deployed. */
  environment: Record<string, string>;
  timeoutSeconds: number;
  roleArn: string;
  roleName: string;
  /** The role's inline policies by name: exactly what the component attached. */
  policies: Record<string, PolicyDocument>;
}

interface Resource {
  urn: string;
  type: string;
  parent?: string;
  inputs?: Record<string, any>;
  outputs?: Record<string, any>;
}

/**
 * Reads the functions of a stack export (`pulumi stack export --show-secrets`): each Lambda function's
 * archive, environment, timeout and role, and the role's inline policies. Managed policy attachments
 * (basic execution, SQS) grant no IoT action and are left out.
 */
export async function readDeployment(exportFile: string): Promise<DeployedFunction[]> {
  const exported = JSON.parse(await readFile(exportFile, "utf8")) as {
    deployment: { resources: Resource[] };
  };
  const resources = exported.deployment.resources.map((r) => ({
    ...r,
    inputs: decodeSecrets(r.inputs ?? {}) as Record<string, any>,
    outputs: decodeSecrets(r.outputs ?? {}) as Record<string, any>,
  }));
  const roles = resources.filter((r) => r.type === "aws:iam/role:Role");
  const rolePolicies = resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy");
  return resources
    .filter((r) => r.type === "aws:lambda/function:Function")
    .map((fn) => {
      const component = resources.find((r) => r.urn === fn.parent)!;
      const roleArn = fn.inputs.role as string;
      const roleName = roles.find((r) => r.outputs.arn === roleArn)!.outputs.name as string;
      const assets = fn.inputs.code.assets as Record<string, { text: string }>;
      const policies: Record<string, PolicyDocument> = {};
      for (const p of rolePolicies.filter((r) => r.inputs.role === roleName)) {
        policies[p.urn.split("::").at(-1)!] = JSON.parse(p.inputs.policy as string) as PolicyDocument;
      }
      return {
        name: component.urn.split("::").at(-1)!,
        functionId: component.outputs.functionId as string,
        functionName: fn.outputs.name as string,
        functionArn: fn.outputs.arn as string,
        handler: fn.inputs.handler as string,
        files: Object.fromEntries(Object.entries(assets).map(([file, asset]) => [file, asset.text])),
        environment: (fn.inputs.environment?.variables ?? {}) as Record<string, string>,
        timeoutSeconds: Number(fn.inputs.timeout ?? 3),
        roleArn,
        roleName,
        policies,
      };
    });
}

/** The outputs of the first resource of `type` in a stack export (`pulumi:pulumi:Stack` for the stack's). */
export async function outputsOf(exportFile: string, type: string): Promise<Record<string, any>> {
  const exported = JSON.parse(await readFile(exportFile, "utf8")) as {
    deployment: { resources: Resource[] };
  };
  const found = exported.deployment.resources.find((r) => r.type === type);
  if (!found) throw new Error(`no ${type} in ${exportFile}`);
  return decodeSecrets(found.outputs ?? {}) as Record<string, any>;
}
