/** What never goes to disk: credentials and anything whose name says it is a secret. */

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
