import test from "ava";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { awsCredentials } from "../../cli/aws/credentials";

// The real default chain reads these from process.env; this file runs in its own process.
let home: string;
test.before(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), "pulumi-live-aws-home-"));
  await mkdir(path.join(home, ".aws/sso/cache"), { recursive: true });
  await writeFile(
    path.join(home, ".aws/config"),
    [
      "[profile dev]",
      "sso_session = my-sso",
      "sso_account_id = 123456789012",
      "sso_role_name = Developer",
      "region = eu-west-1",
      "",
      "[sso-session my-sso]",
      "sso_start_url = https://example.awsapps.com/start",
      "sso_region = eu-west-1",
      "sso_registration_scopes = sso:account:access",
      "",
      "[profile process]",
      `credential_process = ${process.execPath} ${path.join(home, "credential-process.js")}`,
      "",
    ].join("\n"),
  );
  // Temporary credentials for an hour, counting its runs.
  await writeFile(
    path.join(home, "credential-process.js"),
    `require("node:fs").appendFileSync(${JSON.stringify(path.join(home, "credential-process-runs"))}, "x");\n` +
      "process.stdout.write(JSON.stringify({ Version: 1, AccessKeyId: 'AKIDPROCESS', SecretAccessKey: 's', " +
      "SessionToken: 't', Expiration: new Date(Date.now() + 3600000).toISOString() }));\n",
  );
  await writeFile(
    path.join(home, ".aws/credentials"),
    "[static]\naws_access_key_id = AKIDSTATIC\naws_secret_access_key = static-secret\n",
  );
  // What `aws sso login` leaves behind, expired and without a refresh token.
  const cacheName = createHash("sha1").update("my-sso").digest("hex");
  await writeFile(
    path.join(home, ".aws/sso/cache", `${cacheName}.json`),
    JSON.stringify({
      accessToken: "expired",
      expiresAt: "2020-01-01T00:00:00Z",
      region: "eu-west-1",
      startUrl: "https://example.awsapps.com/start",
    }),
  );
  for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"])
    delete process.env[name];
  Object.assign(process.env, {
    HOME: home,
    AWS_CONFIG_FILE: path.join(home, ".aws/config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, ".aws/credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
  });
});
test.after.always(() => rm(home, { recursive: true, force: true }));

test.serial(
  "--profile picks a profile of the shared credentials file through the default chain",
  async (t) => {
    const credentials = await awsCredentials({ profile: "static" }).get();
    t.like(credentials, { accessKeyId: "AKIDSTATIC", secretAccessKey: "static-secret" });
  },
);

test.serial("an expired SSO session says to run aws sso login for the profile", async (t) => {
  const error = await t.throwsAsync(awsCredentials({ profile: "dev" }).get());
  t.is(error?.name, "UserError");
  t.is(
    error?.message,
    'The AWS SSO session of profile "dev" has expired or is not signed in (Value not present for ' +
      "'clientId' in SSO Token. Cannot refresh.). Sign in again: aws sso login --profile dev",
  );
});

test.serial("a profile that does not exist", async (t) => {
  const error = await t.throwsAsync(awsCredentials({ profile: "nope" }).get());
  t.is(
    error?.message,
    'No AWS credentials for profile "nope": it is not in ~/.aws/config or ~/.aws/credentials, or holds none. ' +
      "List your profiles with: aws configure list-profiles  and pass one with --profile NAME.",
  );
});

// The SDK's chain caches (and refreshes five minutes before expiry): a reconnect asks again and again.
test.serial("credentials of the chain are fetched once and reused while valid", async (t) => {
  const counter = path.join(home, "credential-process-runs");
  const source = awsCredentials({ profile: "process" });
  const [a, b] = await Promise.all([source.get(), source.get()]);
  const c = await source.get();
  t.deepEqual([a.accessKeyId, b.accessKeyId, c.accessKeyId], ["AKIDPROCESS", "AKIDPROCESS", "AKIDPROCESS"]);
  t.is(await readFile(counter, "utf8"), "x");
});
