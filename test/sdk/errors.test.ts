import test from "ava";
import * as pulumi from "@pulumi/pulumi";
import { LiveFunction, LiveFunctionError } from "../../sdk";
import { roleNameOf } from "../../sdk/validate";
import { closeMocks, startMocks } from "../fixtures/pulumi-mocks";

// One mocked engine for the file; each test sets the stack config it needs. Constructors throw before
// creating any child, so the scenarios do not interfere.
test.before(async () => {
  await startMocks({ project: "demo", stack: "errors" });
});
test.after.always(closeMocks);

function setLive(value: string | undefined): void {
  pulumi.runtime.setAllConfig(value === undefined ? {} : { "demo:live": value });
}

test.serial(
  "a missing file, a non-boolean config, a role name and an unknown bundle option in one run",
  (t) => {
    setLive("maybe");
    const error = t.throws(
      () =>
        new LiveFunction("api", {
          handler: "src/missing.handler",
          role: "my-role",
          bundle: { externals: ["x"] } as never,
        }),
      { instanceOf: LiveFunctionError },
    );
    t.is(
      error.message,
      [
        'LiveFunction "api" has 4 problems:',
        '  - config live: is "maybe", which is not a boolean (accepted: true, 1, yes, on, false, 0, no, off). ' +
          "Run `pulumi config set live true` or `pulumi config set live false`.",
        '  - role: is "my-role", which is not an IAM role ARN. Pass the role\'s ARN ' +
          '("arn:aws:iam::123456789012:role/name"), e.g. `role.arn`, not its name.',
        '  - bundle: has an unknown option "externals". Use only external, loader, banner, minify, sourcemap.',
        `  - handler: no file src/missing{.ts,.mts,.cts,.js,.mjs,.cjs} under ${process.cwd()}. ` +
          "Fix the path (it is relative to the folder of Pulumi.yaml) or create the file.",
      ].join("\n"),
    );
    t.is(error.functionName, "api");
  },
);

test.serial("a missing export, a bad per-function live and an unsupported runtime", (t) => {
  setLive(undefined);
  const error = t.throws(
    () =>
      new LiveFunction("worker", {
        handler: "examples/handlers/worker.main",
        live: "yes" as never,
        runtime: "java21",
        bundle: { external: ["x"] },
      }),
    { instanceOf: LiveFunctionError },
  );
  t.deepEqual(error.problems, [
    {
      option: "live",
      message: 'must be true or false, got "yes".',
      fix: "Pass a boolean, or leave it out to follow the stack config `live`.",
    },
    {
      option: "runtime",
      message: 'is "java21", but LiveFunction serves Node.js and Python handlers only.',
      fix: 'Use a Node.js runtime such as "nodejs22.x" (or leave it out), or a Python one such as "python3.12".',
    },
    {
      option: "handler",
      message: 'worker.ts has no export "main" (it exports handler).',
      fix: 'Export a function named "main" or fix the name after the last dot of "handler".',
    },
  ]);
});

test.serial("bundle options esbuild rejects", (t) => {
  setLive("false");
  const error = t.throws(
    () =>
      new LiveFunction("cron", {
        handler: "examples/handlers/cron.handler",
        bundle: { loader: { ".txt": "bogus" as never } },
      }),
    { instanceOf: LiveFunctionError },
  );
  t.is(
    error.message,
    'LiveFunction "cron" has 1 problem:\n' +
      '  - bundle: esbuild could not bundle examples/handlers/cron.handler: Invalid loader value: "bogus". ' +
      "Fix the source or the `bundle` options (external, loader, banner, minify, sourcemap).",
  );
});

test.serial("a role Output that is not an ARN fails when it resolves, with the same message", (t) => {
  t.is(roleNameOf("api", "arn:aws:iam::123456789012:role/a/b/c-role"), "c-role");
  t.is(roleNameOf("api", "arn:aws-us-gov:iam::123456789012:role/gov"), "gov");
  const error = t.throws(() => roleNameOf("api", "arn:aws:iam::123456789012:user/bob"), {
    instanceOf: LiveFunctionError,
  });
  t.is(
    error.message,
    'LiveFunction "api" has 1 problem:\n' +
      '  - role: is "arn:aws:iam::123456789012:user/bob", which is not an IAM role ARN. Pass the role\'s ARN ' +
      '("arn:aws:iam::123456789012:role/name"), e.g. `role.arn`, not its name.',
  );
});
