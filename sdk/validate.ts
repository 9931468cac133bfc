import { isPythonRuntime } from "../core/python";
import { LiveFunctionError } from "./errors";
import type { Problems } from "./errors";

/** `arn:<partition>:iam::<account>:role/<optional path/><name>` */
const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

/** Lambda's own bounds for a timeout, in seconds. */
const MAX_TIMEOUT = 900;

/** What the arguments of a `LiveFunction` must satisfy beyond their types (checked when they are known). */
export interface CheckedArgs {
  role?: unknown;
  runtime?: unknown;
  fallback?: unknown;
  liveTimeout?: unknown;
}

/** Records every problem with the plain (non-Output) values among `args`. */
export function validateArgs(args: CheckedArgs, problems: Problems): void {
  if (typeof args.role === "string" && !ROLE_ARN.test(args.role)) {
    problems.add("role", roleMessage(args.role), ROLE_FIX);
  }
  if (
    typeof args.runtime === "string" &&
    !/^nodejs\d+\.x$/.test(args.runtime) &&
    !isPythonRuntime(args.runtime)
  ) {
    problems.add(
      "runtime",
      `is "${args.runtime}", but LiveFunction serves Node.js and Python handlers only.`,
      'Use a Node.js runtime such as "nodejs22.x" (or leave it out), or a Python one such as "python3.12".',
    );
  }
  if (args.fallback !== undefined && typeof args.fallback !== "boolean") {
    problems.add(
      "fallback",
      `must be true or false, got ${JSON.stringify(args.fallback)}.`,
      "Pass a boolean.",
    );
  }
  const t = args.liveTimeout;
  if (
    typeof t !== "object" &&
    t !== undefined &&
    !(typeof t === "number" && Number.isInteger(t) && t >= 1 && t <= MAX_TIMEOUT)
  ) {
    problems.add(
      "liveTimeout",
      `must be a whole number of seconds from 1 to ${MAX_TIMEOUT}, got ${JSON.stringify(t)}.`,
      "Fix the value or leave it out to keep `timeout`.",
    );
  }
}

const ROLE_FIX =
  'Pass the role\'s ARN ("arn:aws:iam::123456789012:role/name"), e.g. `role.arn`, not its name.';

function roleMessage(value: string): string {
  return `is ${JSON.stringify(value)}, which is not an IAM role ARN.`;
}

/**
 * The role name inside a role ARN (inline policies attach by name). Used on resolved Outputs, so a bad
 * value throws the user-facing error directly.
 */
export function roleNameOf(functionName: string, arn: string): string {
  const match = ROLE_ARN.exec(arn);
  if (!match)
    throw new LiveFunctionError(functionName, [{ option: "role", message: roleMessage(arn), fix: ROLE_FIX }]);
  return match[1];
}
