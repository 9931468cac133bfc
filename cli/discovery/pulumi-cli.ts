import { spawn } from "node:child_process";
import { UserError } from "../user-error";

/** Which stack to read and from where. */
export interface StackSelector {
  /** `--stack NAME`; the project's selected stack when absent. */
  stack?: string;
  /** The folder `pulumi` runs in (`--cwd`). */
  cwd: string;
}

/** The arguments passed to `pulumi`: exported for the tests that pin them. */
export function stackExportArgs(selector: StackSelector): string[] {
  const args = ["stack", "export", "--show-secrets", "--non-interactive", "--cwd", selector.cwd];
  if (selector.stack) args.push("--stack", selector.stack);
  return args;
}

/** How `--stack` reads in a fix command. */
function stackFlag(selector: StackSelector): string {
  return selector.stack ? ` --stack ${selector.stack}` : "";
}

/**
 * Turns the pulumi CLI's stderr into a message that says what happened and the command that fixes it.
 * The patterns are the CLI's own texts (pkg/backend, pkg/secrets/passphrase, pkg/workspace).
 */
export function explainPulumiFailure(
  stderr: string,
  code: number | null,
  selector: StackSelector,
): UserError {
  const text = stderr.trim();
  const noStack = /no stack named '([^']+)' found/.exec(text);
  if (noStack) {
    return new UserError(
      `Pulumi has no stack named "${noStack[1]}" in this project (${selector.cwd}). ` +
        `List the stacks with: pulumi stack ls --cwd ${selector.cwd}  then pass one with --stack NAME.`,
    );
  }
  if (/no stack selected/.test(text)) {
    return new UserError(
      `No Pulumi stack is selected in ${selector.cwd}. Select one with: pulumi stack select NAME  ` +
        `(or pass --stack NAME).`,
    );
  }
  if (/PULUMI_ACCESS_TOKEN must be set for login|not logged in/i.test(text)) {
    return new UserError(
      "The pulumi CLI is not logged in to a backend. Log in with: pulumi login  " +
        "(or pulumi login --local, or set PULUMI_ACCESS_TOKEN), then run this again.",
    );
  }
  if (/passphrase must be set|PULUMI_CONFIG_PASSPHRASE/.test(text)) {
    return new UserError(
      "The stack's secrets are encrypted with a passphrase, and pulumi-live needs them (the session key " +
        "is a secret). Set it for this shell: export PULUMI_CONFIG_PASSPHRASE='...'  " +
        "(or PULUMI_CONFIG_PASSPHRASE_FILE=path), then run this again.",
    );
  }
  if (/incorrect passphrase/.test(text)) {
    return new UserError(
      "PULUMI_CONFIG_PASSPHRASE does not decrypt this stack's secrets. Set the passphrase the stack was " +
        "created with: export PULUMI_CONFIG_PASSPHRASE='...'",
    );
  }
  if (/no Pulumi\.yaml project file found/.test(text)) {
    return new UserError(
      `${selector.cwd} is not inside a Pulumi project (no Pulumi.yaml there or above). ` +
        "Run this in your project folder, or pass it with --cwd DIR.",
    );
  }
  return new UserError(
    `pulumi stack export${stackFlag(selector)} failed (exit code ${code}):\n${text || "(no output)"}\n` +
      `Run it yourself to see the problem: pulumi stack export${stackFlag(selector)} --cwd ${selector.cwd}`,
  );
}

/** Runs `pulumi stack export --show-secrets` and resolves with its stdout; failures become `UserError`s. */
export function exportStack(selector: StackSelector, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("pulumi", stackExportArgs(selector), {
      cwd: selector.cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") {
        reject(
          new UserError(
            "The pulumi CLI is not installed (no `pulumi` on PATH); pulumi-live reads your stack through it. " +
              "Install it: curl -fsSL https://get.pulumi.com | sh  (or brew install pulumi/tap/pulumi), " +
              "then open a new shell.",
          ),
        );
      } else reject(error);
    });
    child.once("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else reject(explainPulumiFailure(Buffer.concat(err).toString("utf8"), code, selector));
    });
  });
}
