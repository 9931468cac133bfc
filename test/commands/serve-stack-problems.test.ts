import test from "ava";
import { startStackServer } from "../../cli/commands/serve-stack";
import { UserError } from "../../cli/user-error";
import { demoProject, fakePulumi, PULUMI_FAILURES } from "../discovery/fake-pulumi";
import { RecordingReporter } from "../helpers/recorder";

// Before, serve stopped at the first: a user with no stack selected and an expired SSO session had to
// run it twice to hear of the second.
test("serve against a stack reports a discovery problem and a credentials problem together", async (t) => {
  const project = await demoProject();
  t.teardown(project.remove);
  const pulumi = await fakePulumi({ stderr: PULUMI_FAILURES.noStackSelected, code: 255 });
  t.teardown(pulumi.remove);
  const expired = new UserError(
    'The AWS SSO session of profile "dev" has expired. Sign in again: aws sso login --profile dev',
  );
  const error = await t.throwsAsync(
    startStackServer({
      cwd: project.root,
      env: pulumi.env,
      reporter: new RecordingReporter(),
      credentials: { profile: "dev", get: () => Promise.reject(expired) },
    }),
    { instanceOf: UserError },
  );
  t.is(error?.problems.length, 2);
  t.regex(error?.problems[0] ?? "", /^No Pulumi stack is selected/);
  t.is(error?.problems[1], expired.message);
});
