/**
 * What never goes to disk: credentials in the environment (by name, and in URLs), and the credentials
 * an HTTP request carries (headers, cookies, token-named query parameters, a REST API's key).
 */

/** The value written in place of a secret. */
export const REDACTED = "[redacted]";

/** AWS's own secret variables, named explicitly although the pattern covers them too. */
const AWS_SECRETS = new Set(["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"]);

/**
 * A name that says key, secret, token, password or passphrase, credential, auth, DSN, private, cookie,
 * session or signature (`API_KEY`, `dbPassword`, `GITHUB_TOKEN`, `PASSWD`, `PULUMI_CONFIG_PASSPHRASE`,
 * `SENTRY_DSN`, `BASIC_AUTH`); `AUTHOR` is not one.
 */
const SECRET_NAME =
  /key|secret|token|passw(?:or)?d|pwd|passphrase|credential|dsn|auth(?!or)|private|cookie|session|signature/i;

/** `scheme://user:password@host`: the user information of a URL, wherever it appears in a value. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

/** A value with the user information of every URL in it replaced (`postgres://[redacted]@db/orders`). */
export function redactUrls(value: string): string {
  return value.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
}

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
    const value = isSecretName(name) ? REDACTED : redactUrls(env[name]);
    environment[name] = value;
    if (value !== env[name]) redacted.push(name);
  }
  return { environment, redacted };
}

/**
 * Request headers that carry credentials (compared lower case: header names are case-insensitive):
 * `authorization`, `proxy-authorization`, `cookie`, `x-api-key`, `x-amz-security-token`, `x-auth-token`,
 * and any other whose name says so.
 */
function isSecretHeader(name: string): boolean {
  return /auth|token|secret|passw|api-?key|cookie|session|signature/i.test(name);
}

/** Query parameters that carry credentials: token-named ones, and OAuth's `code`. */
function isSecretParameter(name: string): boolean {
  return name.toLowerCase() === "code" || isSecretName(name) || /^(sig|x-amz-signature)$/i.test(name);
}

/**
 * The event with the credentials an HTTP request carries replaced by {@link REDACTED}: secret headers
 * in `headers` and `multiValueHeaders` (API Gateway REST and HTTP APIs, function URLs, ALB), the
 * `cookies` of v2 events, token-named query parameters (in the parsed parameters and in
 * `rawQueryString`), a REST API event's `requestContext.identity.apiKey`, and the user information of
 * URLs in header values. `redacted` names what was replaced (`headers.Authorization`, `cookies`,
 * `queryStringParameters.access_token`). The event given is left as it is.
 */
export function redactEvent(event: unknown): { event: unknown; redacted: string[] } {
  if (!isObject(event)) return { event, redacted: [] };
  const copy: Record<string, unknown> = { ...event };
  const redacted: string[] = [];
  const replace = (field: string, secret: (name: string) => boolean, urls: boolean) => {
    const values = copy[field];
    if (!isObject(values)) return;
    const next: Record<string, unknown> = { ...values };
    for (const [name, value] of Object.entries(values)) {
      if (value === null || value === undefined) continue;
      const hidden = secret(name)
        ? Array.isArray(value)
          ? value.map(() => REDACTED)
          : REDACTED
        : urls
          ? mapStrings(value, redactUrls)
          : value;
      if (JSON.stringify(hidden) === JSON.stringify(value)) continue;
      next[name] = hidden;
      redacted.push(`${field}.${name}`);
    }
    copy[field] = next;
  };
  replace("headers", isSecretHeader, true);
  replace("multiValueHeaders", isSecretHeader, true);
  replace("queryStringParameters", isSecretParameter, false);
  replace("multiValueQueryStringParameters", isSecretParameter, false);
  if (typeof copy.rawQueryString === "string") {
    const raw = redactQuery(copy.rawQueryString);
    if (raw !== copy.rawQueryString) {
      copy.rawQueryString = raw;
      redacted.push("rawQueryString");
    }
  }
  if (Array.isArray(copy.cookies) && copy.cookies.length > 0) {
    copy.cookies = copy.cookies.map(() => REDACTED);
    redacted.push("cookies");
  }
  const context = copy.requestContext;
  if (isObject(context) && isObject(context.identity) && typeof context.identity.apiKey === "string") {
    copy.requestContext = { ...context, identity: { ...context.identity, apiKey: REDACTED } };
    redacted.push("requestContext.identity.apiKey");
  }
  return redacted.length > 0 ? { event: copy, redacted } : { event, redacted };
}

/** A raw query string with the values of secret parameters replaced (names and order kept). */
function redactQuery(query: string): string {
  return query
    .split("&")
    .map((pair) => {
      const equals = pair.indexOf("=");
      if (equals < 0) return pair;
      let name = pair.slice(0, equals);
      try {
        name = decodeURIComponent(name.replace(/\+/g, " "));
      } catch {
        // a malformed escape: judge the name as written
      }
      return isSecretParameter(name) ? `${pair.slice(0, equals)}=${encodeURIComponent(REDACTED)}` : pair;
    })
    .join("&");
}

function mapStrings(value: unknown, fn: (text: string) => string): unknown {
  if (typeof value === "string") return fn(value);
  if (!Array.isArray(value)) return value;
  return (value as unknown[]).map((item) => (typeof item === "string" ? fn(item) : item));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
