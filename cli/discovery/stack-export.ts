import { PROTOCOL_VERSION, parseKey } from "../../protocol";
import { FUNCTION_TYPE, SESSION_TYPE } from "../../core/names";
import type { FunctionRecord, SessionRecord } from "../../core/stack-record";
import { UserError } from "../user-error";

/** Pulumi's signature key and the secret marker in state (`resource.SigKey`, `resource.SecretSig`). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** What the stack's `Session` component recorded, with its key. */
export interface StackSession extends Omit<SessionRecord, "stubClientPrefix"> {
  key: Buffer;
}

/** What one `LiveFunction` recorded. */
export interface StackFunction extends Omit<FunctionRecord, "roleArn"> {
  /** The component's logical name (last part of its URN). */
  name: string;
}

export interface ParsedStack {
  /** `project/stack` from the URNs, for messages. */
  project: string;
  stack: string;
  /** Absent when the stack was deployed with `live` off. */
  session?: StackSession;
  functions: StackFunction[];
}

/**
 * Decodes a state value as `stack export --show-secrets` writes it: a secret is
 * `{ <sig>: <secret sig>, plaintext: "<JSON of the value>" }`; without --show-secrets it holds `ciphertext`.
 */
export function decodeSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeSecrets);
  if (!value || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (record[SIG_KEY] === SECRET_SIG) {
    if (typeof record.plaintext !== "string") {
      throw new UserError(
        "The stack export holds encrypted secrets; pulumi-live needs them in plaintext. Update the pulumi " +
          "CLI (pulumi stack export --show-secrets needs v2.10 or later): https://www.pulumi.com/docs/install/",
      );
    }
    return decodeSecrets(JSON.parse(record.plaintext));
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, decodeSecrets(v)]));
}

interface StateResource {
  urn: string;
  type: string;
  outputs?: Record<string, unknown>;
}

function str(
  outputs: Record<string, unknown>,
  name: keyof SessionRecord | keyof FunctionRecord | "key",
  problems: string[],
  what: string,
): string {
  const value = outputs[name];
  if (typeof value === "string" && value.length > 0) return value;
  problems.push(`${what} has no "${name}" output`);
  return "";
}

/** `urn:pulumi:<stack>::<project>::<type>::<name>` */
function urnParts(urn: string): { stack: string; project: string; name: string } {
  const parts = urn.split("::");
  return { stack: parts[0].replace(/^urn:pulumi:/, ""), project: parts[1] ?? "", name: parts.at(-1) ?? "" };
}

/** Reads the Session and every LiveFunction from the JSON `pulumi stack export --show-secrets` printed. */
export function parseStackExport(json: string, stackLabel: string): ParsedStack {
  let exported: { deployment?: { resources?: StateResource[] } };
  try {
    exported = JSON.parse(json) as typeof exported;
  } catch (error) {
    throw new UserError(
      `pulumi stack export printed something that is not JSON (${(error as Error).message}). ` +
        `Check your pulumi CLI: pulumi version`,
    );
  }
  const resources = exported.deployment?.resources ?? [];
  const stackResource = resources.find((r) => r.type === "pulumi:pulumi:Stack");
  const names = urnParts(stackResource?.urn ?? resources[0]?.urn ?? `urn:pulumi:${stackLabel}::?::x::x`);
  const problems: string[] = [];
  let session: StackSession | undefined;
  const sessionResource = resources.find((r) => r.type === SESSION_TYPE);
  if (sessionResource) {
    const out = decodeSecrets(sessionResource.outputs ?? {}) as Record<string, unknown>;
    const what = `The Session component (${sessionResource.urn})`;
    const protocolVersion = typeof out.protocolVersion === "number" ? out.protocolVersion : 0;
    // Another version records other fields: say which versions differ rather than list what is missing.
    const found = protocolVersion === PROTOCOL_VERSION ? problems : [];
    const keyText = str(out, "key", found, what);
    let key: Buffer = Buffer.alloc(0);
    try {
      if (keyText) key = parseKey(keyText);
    } catch (error) {
      found.push(`${what} has an invalid key: ${(error as Error).message}`);
    }
    session = {
      key,
      organization: str(out, "organization", found, what),
      namespaceId: str(out, "namespaceId", found, what),
      prefix: str(out, "prefix", found, what),
      sessionClientPrefix: str(out, "sessionClientPrefix", found, what),
      endpoint: str(out, "endpoint", found, what),
      region: str(out, "region", found, what),
      project: typeof out.project === "string" ? out.project : names.project,
      stack: typeof out.stack === "string" ? out.stack : names.stack,
      protocolVersion,
    };
    if (protocolVersion !== PROTOCOL_VERSION) {
      problems.push(
        `the stack was deployed with protocol version ${protocolVersion} and this pulumi-live speaks ` +
          `version ${PROTOCOL_VERSION}: use the same pulumi-live version for pulumi up and serve`,
      );
    }
  }
  const functions: StackFunction[] = [];
  for (const r of resources.filter((x) => x.type === FUNCTION_TYPE)) {
    const out = decodeSecrets(r.outputs ?? {}) as Record<string, unknown>;
    const name = urnParts(r.urn).name;
    const what = `LiveFunction "${name}"`;
    functions.push({
      name,
      functionId: str(out, "functionId", problems, what),
      functionName: str(out, "functionName", problems, what),
      functionArn: str(out, "functionArn", problems, what),
      handler: str(out, "handler", problems, what),
      runtime: typeof out.runtime === "string" ? out.runtime : "",
      live: out.live === true,
    });
  }
  if (problems.length > 0) {
    throw new UserError(
      `The stack ${stackLabel} does not hold what pulumi-live needs:\n  ${problems.join("\n  ")}\n` +
        "Deploy it again with this version of pulumi-live: pulumi up",
    );
  }
  return { project: names.project, stack: names.stack, session, functions };
}
