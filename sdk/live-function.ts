import * as fs from "node:fs";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FUNCTION_TYPE, STUB_BUNDLE } from "../core/names";
import type { FunctionRecord } from "../core/stack-record";
import { isPythonRuntime } from "../core/python";
import { STUB_ENV } from "../protocol/environment";
import { functionId as toFunctionId } from "../protocol/topics";
import { archiveOf, bundleHandler, checkBundleOptions, esbuildTarget } from "./bundle";
import type { Bundle, BundleOptions } from "./bundle";
import { Problems } from "./errors";
import { projectRoot, resolveHandler } from "./handler-source";
import type { HandlerSource } from "./handler-source";
import { stubDisabledPolicyDocument, stubPolicyDocument } from "../core/iot-policy";
import { decideLive } from "./live-config";
import { checkPythonOptions, packagePython, pythonArchive, resolvePythonHandler } from "./python-package";
import type { PythonOptions, PythonPackage, PythonSource } from "./python-package";
import { stackContext } from "./stack-context";
import { validateArgs, roleNameOf } from "./validate";

/** Runtime used when none is given: a Node.js runtime Lambda supports today. */
export const DEFAULT_RUNTIME = "nodejs22.x";

/**
 * Arguments of `LiveFunction`: those of `aws.lambda.Function` except the code sources (`code`, `imageUri`,
 * `s3*`, `packageType`, `sourceCodeHash`), with `handler` naming local source and `role` optional.
 */
export interface LiveFunctionArgs extends Omit<
  aws.lambda.FunctionArgs,
  | "code"
  | "handler"
  | "role"
  | "imageUri"
  | "imageConfig"
  | "packageType"
  | "s3Bucket"
  | "s3Key"
  | "s3ObjectVersion"
  | "sourceCodeHash"
> {
  /**
   * Local source and export, relative to the folder of `Pulumi.yaml`: `src/api.handler` is the export
   * `handler` of `src/api.ts` (or `.mts`, `.cts`, `.js`, `.mjs`, `.cjs`); with a Python `runtime`, the
   * function `handler` of `src/api.py`.
   * @example "src/api.handler"
   */
  handler: string;
  /**
   * ARN of an existing role. The IoT access policy is attached to it as an inline policy.
   * @default a new role with the basic execution policy
   * @example "arn:aws:iam::123456789012:role/my-api"
   */
  role?: pulumi.Input<string>;
  /**
   * Runs this function live or not, whatever the stack config `live` says.
   * @default the stack config `live`
   * @example false
   */
  live?: boolean;
  /**
   * In live mode, also ship the real bundle and run it when no session is online.
   * @default false
   * @example true
   */
  fallback?: boolean;
  /**
   * The timeout (seconds) while live, e.g. to step through with a debugger.
   * @default `timeout`
   * @example 900
   */
  liveTimeout?: pulumi.Input<number>;
  /**
   * esbuild options for the real bundle.
   * @example { external: ["@aws-sdk/*"], minify: false }
   */
  bundle?: BundleOptions;
  /**
   * With a Python `runtime`: how the `requirements.txt` next to the handler is installed for Lambda.
   * @example { pipArgs: ["--no-index", "--find-links", "wheels"] }
   */
  python?: PythonOptions;
}

/** The resources a `LiveFunction` made. */
export interface LiveFunctionNodes {
  function: aws.lambda.Function;
  /** The role created for it; `undefined` when a `role` ARN was given. */
  role: aws.iam.Role | undefined;
  /** The inline IoT access policy on the function's role (present in both modes, granting only when live). */
  policy: aws.iam.RolePolicy;
}

/**
 * An AWS Lambda function whose handler is local source: deployed as the real bundle, or, while live
 * (`pulumi config set live true`), as a relay stub that runs each invocation on the developer's machine.
 * Triggers attach to `nodes.function`, `arn` and `name` as to a plain `aws.lambda.Function`.
 */
export class LiveFunction extends pulumi.ComponentResource {
  /** Whether this function is deployed live. */
  readonly live: boolean;
  /** The function's id as used in topics. */
  readonly functionId: string;
  readonly arn: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  readonly nodes: LiveFunctionNodes;

  constructor(name: string, args: LiveFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super(FUNCTION_TYPE, name, {}, opts);
    const childOpts: pulumi.CustomResourceOptions = { parent: this };
    const problems = new Problems();
    const root = projectRoot();
    const live = decideLive(new pulumi.Config().get("live"), args.live, problems);
    const runtime = args.runtime ?? DEFAULT_RUNTIME;
    validateArgs(args, problems);
    checkBundleOptions(args.bundle, problems);
    const python = isPythonRuntime(runtime);
    if (python) checkPython();
    else if (args.python !== undefined) {
      problems.add(
        "python",
        "applies to Python runtimes only.",
        'Leave it out, or set runtime: "python3.12".',
      );
    }
    const source: PythonSource | undefined = python
      ? resolvePythonHandler(args.handler, root, problems)
      : resolveHandler(args.handler, root, problems);
    // A Python function's package is only needed when it is deployed (the stub cannot fall back to it).
    const pythonPackage = python && !live && source ? packageOf(source) : undefined;
    const real = !python && source ? buildReal(source as HandlerSource) : undefined;
    const stub = live ? readStub() : undefined;
    problems.throwIfAny(name);

    const context = stackContext();
    const functionId = toFunctionId(name);
    const { role, roleArn, roleName, attachments } = createRole();
    const policy = createPolicy();
    const fn = createFunction();

    this.live = live;
    this.functionId = functionId;
    this.arn = fn.arn;
    this.name = fn.name;
    this.roleArn = roleArn;
    this.nodes = { function: fn, role, policy };
    const outputs: { [K in keyof FunctionRecord]: pulumi.Input<FunctionRecord[K]> } = {
      functionName: fn.name,
      functionArn: fn.arn,
      functionId,
      handler: source!.relative,
      runtime: pulumi.output(runtime).apply((r) => r ?? DEFAULT_RUNTIME),
      live,
      roleArn,
    };
    this.registerOutputs(outputs);

    function buildReal(src: HandlerSource): Bundle | undefined {
      const target = typeof runtime === "string" ? esbuildTarget(runtime) : "node20";
      // The fallback copy sits next to the CommonJS stub, which `require`s it.
      const format = live && args.fallback ? "cjs" : src.format;
      return bundleHandler(src, args.bundle, root, target, problems, format);
    }

    function checkPython(): void {
      checkPythonOptions(args.python, problems);
      if (args.bundle !== undefined) {
        problems.add("bundle", "applies to Node.js handlers only.", "Leave it out for a Python runtime.");
      }
      if (args.fallback) {
        problems.add(
          "fallback",
          "runs the real bundle inside the Node.js relay stub, which cannot run a Python handler.",
          "Leave it out for a Python runtime.",
        );
      }
    }

    function packageOf(src: PythonSource): PythonPackage | undefined {
      const architectures = args.architectures;
      const architecture = Array.isArray(architectures) && architectures[0] === "arm64" ? "arm64" : "x86_64";
      return packagePython(src, args.python, runtime as string, architecture, root, problems);
    }

    function readStub(): Buffer | undefined {
      if (fs.existsSync(STUB_BUNDLE)) return fs.readFileSync(STUB_BUNDLE);
      problems.add(
        "live",
        `the relay stub bundle is missing (${STUB_BUNDLE}).`,
        "Reinstall pulumi-live, or run `npm run build` in its checkout.",
      );
      return undefined;
    }

    function createRole() {
      if (args.role !== undefined) {
        const arn = pulumi.output(args.role);
        return {
          role: undefined,
          roleArn: arn,
          roleName: arn.apply((a) => roleNameOf(name, a)),
          attachments: [],
        };
      }
      const created = new aws.iam.Role(
        `${name}-role`,
        {
          assumeRolePolicy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
            ],
          }),
        },
        childOpts,
      );
      const basic = new aws.iam.RolePolicyAttachment(
        `${name}-basic`,
        {
          role: created.name,
          policyArn: pulumi.interpolate`arn:${context.partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`,
        },
        childOpts,
      );
      return { role: created, roleArn: created.arn, roleName: created.name, attachments: [basic] };
    }

    function createPolicy(): aws.iam.RolePolicy {
      const where = pulumi.all([context.partition, context.region, context.accountId]);
      const document = live
        ? pulumi
            .all([where, context.session().prefix, context.session().stubClientPrefix])
            .apply(([[partition, region, accountId], prefix, stubClientPrefix]) =>
              JSON.stringify(
                stubPolicyDocument({ partition, region, accountId, prefix, stubClientPrefix }, functionId),
              ),
            )
        : where.apply(([partition, region, accountId]) =>
            JSON.stringify(
              stubDisabledPolicyDocument(
                { partition, region, accountId, prefix: `${context.namePrefix}/*` },
                functionId,
              ),
            ),
          );
      return new aws.iam.RolePolicy(`${name}-iot`, { role: roleName, policy: document }, childOpts);
    }

    function createFunction(): aws.lambda.Function {
      const {
        handler: _h,
        role: _r,
        live: _l,
        fallback: _f,
        liveTimeout,
        bundle: _b,
        python: _p,
        ...rest
      } = args;
      const common = { ...rest, runtime, role: roleArn };
      const fnOpts = { ...childOpts, dependsOn: [policy, ...attachments] };
      if (!live && pythonPackage) {
        return new aws.lambda.Function(
          `${name}-fn`,
          { ...common, code: pythonArchive(pythonPackage), handler: pythonPackage.handler },
          fnOpts,
        );
      }
      if (!live) {
        return new aws.lambda.Function(
          `${name}-fn`,
          { ...common, code: archiveOf(real!.files), handler: `index.${source!.exportName}` },
          fnOpts,
        );
      }
      const files: Record<string, Buffer> = { "index.js": stub! };
      if (args.fallback)
        for (const [file, data] of Object.entries(real!.files)) files[`fallback/${file}`] = data;
      const session = context.session();
      const environment = pulumi
        .all([
          pulumi.output(args.environment),
          session.key,
          session.endpoint,
          session.prefix,
          session.stubClientPrefix,
        ])
        .apply(([env, key, endpoint, prefix, stubClientPrefix]) => ({
          variables: {
            ...env?.variables,
            [STUB_ENV.prefix]: prefix,
            [STUB_ENV.functionId]: functionId,
            [STUB_ENV.key]: key,
            [STUB_ENV.clientPrefix]: stubClientPrefix,
            [STUB_ENV.stack]: `${context.project}/${context.stack}`,
            [STUB_ENV.endpoint]: endpoint,
            ...(args.fallback ? { [STUB_ENV.fallback]: `fallback/index.${source!.exportName}` } : {}),
          },
        }));
      return new aws.lambda.Function(
        `${name}-fn`,
        {
          ...common,
          // The stub is Node.js, whatever the function's own runtime: the outputs keep the function's.
          runtime: python ? DEFAULT_RUNTIME : runtime,
          code: archiveOf(files),
          handler: "index.handler",
          environment,
          description: pulumi.output(args.description).apply((d) => (d ? `${d} (live)` : "(live)")),
          timeout: liveTimeout ?? args.timeout,
        },
        fnOpts,
      );
    }
  }
}
