/** What never goes to disk: credentials in the environment, by name, and in HTTP request headers. */

/** The value written in place of a secret. */
export const REDACTED = "[redacted]";

/** AWS's own secret variables, named explicitly although the pattern covers them too. */
const AWS_SECRETS = new Set(["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"]);

/** A name that says key, secret, token or password (`API_KEY`, `dbPassword`, `GITHUB_TOKEN`, `PASSWD`). */
const SECRET_NAME = /key|secret|token|passw(?:or)?d|pwd/i;

/** Whether a variable's value is withheld from records. */
export function isSecretName(name: string): boolean {
  return AWS_SECRETS.has(name) || SECRET_NAME.test(name);
}

/** The environment with every secret's value replaced by {@link REDACTED}, and the names replaced. */
export function redactEnvironment(env: Record<string, string>): {
  environment: Record<string, string>;
  redacted: string[];
} {
  const environment: Record<string, string> = {};
  const redacted: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (isSecretName(name)) {
      environment[name] = REDACTED;
      redacted.push(name);
    } else environment[name] = env[name];
  }
  return { environment, redacted };
}

/** Request headers that carry credentials, lower case (header names are case-insensitive). */
const SECRET_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "x-api-key",
  "x-amz-security-token",
]);

/**
 * The event with the credentials an HTTP request carries replaced by {@link REDACTED}: secret headers
 * in `headers` and `multiValueHeaders` (API Gateway REST and HTTP APIs, function URLs, ALB) and the
 * `cookies` of API Gateway v2 events. `redacted` names what was replaced (`headers.Authorization`,
 * `cookies`). The event given is left as it is.
 */
export function redactEvent(event: unknown): { event: unknown; redacted: string[] } {
  if (!isObject(event)) return { event, redacted: [] };
  const copy: Record<string, unknown> = { ...event };
  const redacted: string[] = [];
  for (const field of ["headers", "multiValueHeaders"]) {
    const headers = copy[field];
    if (!isObject(headers)) continue;
    const names = Object.keys(headers).filter(
      (name) =>
        SECRET_HEADERS.has(name.toLowerCase()) && headers[name] !== null && headers[name] !== undefined,
    );
    if (names.length === 0) continue;
    const next: Record<string, unknown> = { ...headers };
    for (const name of names) {
      next[name] = Array.isArray(headers[name]) ? headers[name].map(() => REDACTED) : REDACTED;
      redacted.push(`${field}.${name}`);
    }
    copy[field] = next;
  }
  if (Array.isArray(copy.cookies) && copy.cookies.length > 0) {
    copy.cookies = copy.cookies.map(() => REDACTED);
    redacted.push("cookies");
  }
  return redacted.length > 0 ? { event: copy, redacted } : { event, redacted };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
