import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import type { AwsCredentials } from "../../core/credentials";
import { UserError } from "../user-error";

export type { AwsCredentials };

/** Anything that resolves credentials, as the AWS SDK's providers do. */
export type CredentialsProvider = () => Promise<AwsCredentials>;

/** The developer's credentials, refreshed before they expire. */
export interface CredentialsSource {
  /** The profile in use (`--profile`, else `AWS_PROFILE`), for messages. */
  readonly profile?: string;
  /** Current credentials; asked on every connect and reconnect, so refreshed ones are used. */
  get(): Promise<AwsCredentials>;
}

export interface CredentialsOptions {
  /** `--profile`; else the default chain's own choice (`AWS_PROFILE`, then `default`). */
  profile?: string;
  /** Replaces the default chain (tests); used as it is, without caching. */
  provider?: CredentialsProvider;
  env?: NodeJS.ProcessEnv;
}

/** The command that refreshes an SSO session for this profile. */
export function ssoLoginCommand(profile?: string): string {
  return `aws sso login${profile ? ` --profile ${profile}` : ""}`;
}

/** Turns the AWS SDK's credential errors into what happened and what to run. */
export function explainCredentialsError(error: unknown, profile?: string): UserError {
  const message = error instanceof Error ? error.message : String(error);
  const named = profile ? `profile "${profile}"` : "the default profile";
  if (/SSO session|SSO Token|Token is expired|sso login/i.test(message)) {
    return new UserError(
      `The AWS SSO session of ${named} has expired or is not signed in (${message.replace(/\s*To refresh.*$/, "")}). ` +
        `Sign in again: ${ssoLoginCommand(profile)}`,
    );
  }
  const missingProfile = /Profile '?([^' ]+)'? (could not be found|not found)/i.exec(message);
  if (missingProfile) {
    return new UserError(
      `There is no AWS profile "${missingProfile[1]}" in ~/.aws/config or ~/.aws/credentials. ` +
        `List yours with: aws configure list-profiles  and pass one with --profile NAME.`,
    );
  }
  if (/Could not load credentials from any providers/i.test(message) && profile) {
    return new UserError(
      `No AWS credentials for profile "${profile}": it is not in ~/.aws/config or ~/.aws/credentials, or ` +
        "holds none. List your profiles with: aws configure list-profiles  and pass one with --profile NAME.",
    );
  }
  if (/Could not load credentials from any providers/i.test(message)) {
    return new UserError(
      "No AWS credentials found (environment, ~/.aws config and credentials files, SSO, credential process, " +
        "container or instance role). Sign in with: aws configure sso  (or aws configure), then pass the " +
        "profile with --profile NAME or AWS_PROFILE.",
    );
  }
  return new UserError(`Could not get AWS credentials for ${named}: ${message}`);
}

/**
 * The default AWS credential chain (environment, shared config and credentials files, SSO, credential
 * process, container and instance roles) for `profile`. The SDK's chain caches what it found and fetches
 * again five minutes before expiry, one fetch at a time (a reconnect storm does not start an SSO
 * refresh per attempt). Failures are `UserError`s saying what to run.
 */
export function awsCredentials(options: CredentialsOptions = {}): CredentialsSource {
  const env = options.env ?? process.env;
  const profile = options.profile ?? (env.AWS_PROFILE || undefined);
  const provider: CredentialsProvider =
    options.provider ?? fromNodeProviderChain(options.profile ? { profile: options.profile } : {});
  return {
    profile,
    get: () =>
      provider().catch((error: unknown) => {
        throw explainCredentialsError(error, profile);
      }),
  };
}
