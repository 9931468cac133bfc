/** `pulumi-live invoke <function>`: one invocation through Lambda's Invoke API, in AWS or the local gateway. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { findProjectRoot } from "../../core/handler";
import { defineCommand } from "../command-line/command";
import { readStack } from "../discovery/discover";
import type { StackFunction } from "../discovery/stack-export";
import { UserError } from "../user-error";
import type { CommandIo } from "./command-io";
import type { LambdaError } from "../../core/lambda-error";

export const DEFAULT_LOCAL_ENDPOINT = "http://127.0.0.1:3000";

export interface InvokeDeps {
  /** Where `--event -` reads from. @default process.stdin */
  stdin?: AsyncIterable<Buffer | string>;
  /** Reads the project's stack (LiveFunction names). @default readStack (the pulumi CLI) */
  readStack?: typeof readStack;
}

/**
 * The deployed function a name means: a LiveFunction of the project folder's stack (by its name in the
 * program) when there is one, else the name as given (a deployed name or ARN). Without a Pulumi project
 * or a readable stack the name is taken as given, unless `--stack` asked for one.
 */
async function deployedFunction(
  name: string,
  stack: string | undefined,
  io: CommandIo,
  deps: InvokeDeps,
): Promise<{ functionName: string; region?: string; liveFunction?: string }> {
  if (name.startsWith("arn:") || (!stack && !findProjectRoot(io.cwd))) return { functionName: name };
  let functions: StackFunction[];
  try {
    functions = (await (deps.readStack ?? readStack)({ cwd: io.cwd, stack, env: io.env })).functions;
  } catch (error) {
    if (stack) throw error;
    return { functionName: name };
  }
  const fn = functions.find((f) => f.name === name);
  if (!fn) return { functionName: name };
  return {
    functionName: fn.functionName,
    region: fn.functionArn.split(":")[3] || undefined,
    liveFunction: name,
  };
}

async function readEvent(source: string | undefined, io: CommandIo, deps: InvokeDeps): Promise<string> {
  if (source === undefined) return "{}";
  let text = "";
  if (source === "-") {
    const input: AsyncIterable<Buffer | string> = deps.stdin ?? process.stdin;
    for await (const chunk of input) text += chunk.toString();
  } else {
    try {
      text = await readFile(path.resolve(io.cwd, source), "utf8");
    } catch (error) {
      throw new UserError(`Cannot read the event file ${source}: ${(error as Error).message}`);
    }
  }
  try {
    JSON.parse(text);
  } catch (error) {
    const from = source === "-" ? "standard input" : source;
    throw new UserError(`The event from ${from} is not JSON (${(error as Error).message}).`);
  }
  return text;
}

function explain(error: unknown, target: string, name: string): Error {
  const e = error as Error & { name?: string; code?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  if (code === "ECONNREFUSED") {
    return new UserError(
      `Nothing answers at ${target}: start pulumi-live serve --local there, or pass --endpoint URL of its gateway.`,
    );
  }
  if (e.name === "ResourceNotFoundException") {
    return new UserError(
      `No function "${name}" at ${target}: pass the deployed function's name or ARN (with --local: a --function name of serve). ${e.message}`,
    );
  }
  if (e.name === "CredentialsProviderError") {
    return new UserError(
      `No AWS credentials found (${e.message}). Sign in (aws sso login, AWS_PROFILE) and try again.`,
    );
  }
  if (/region is missing/i.test(e.message)) {
    return new UserError("No AWS region: pass --region REGION or set AWS_REGION.");
  }
  return new UserError(`Invoking ${name} at ${target} failed: ${e.name}: ${e.message}`);
}

interface InvokeOptions {
  name: string;
  event?: string;
  stack?: string;
  region?: string;
  local: boolean;
  endpoint?: string;
  json: boolean;
}

export const invokeCommand = defineCommand<InvokeOptions, InvokeDeps>({
  name: "invoke",
  summary: "invoke a deployed (or local) function through Lambda's Invoke API",
  usage: ["<function> [--event FILE|-] [--local [--endpoint URL]] [--json]"],
  description:
    "Invokes a function through Lambda's Invoke API, so the event travels through the deployed relay stub " +
    "to your pulumi-live serve session, and prints the result and the tail of its log. Exits 1 when the " +
    "function failed.",
  arguments: [
    {
      name: "<function>",
      description:
        "the LiveFunction's name in your Pulumi program (looked up in the stack of the project folder), or " +
        "the deployed function's name or ARN (with --local: the name given to --function)",
    },
  ],
  positionals: { min: 1, max: 1 },
  options: [
    {
      name: "event",
      takes: "value",
      placeholder: "FILE|-",
      description: "the event: a JSON file, or - for standard input",
      default: "{}",
    },
    {
      name: "stack",
      takes: "value",
      placeholder: "NAME",
      description: "the stack the LiveFunction is looked up in",
      default: "the selected one",
    },
    {
      name: "region",
      takes: "value",
      placeholder: "REGION",
      description: "the function's region",
      default: "the LiveFunction's, AWS_REGION or your profile's",
    },
    { name: "local", description: "invoke the local gateway of pulumi-live serve --local instead of AWS" },
    {
      name: "endpoint",
      takes: "value",
      placeholder: "URL",
      description: "the local gateway, with --local",
      default: DEFAULT_LOCAL_ENDPOINT,
    },
    { name: "json", description: "one JSON document instead of lines for people" },
  ],
  read(args, problems) {
    if (args.has("endpoint") && !args.flag("local")) {
      problems.push("--endpoint is the local gateway's address: use it with --local.");
    }
    if (args.has("stack") && args.flag("local")) {
      problems.push("--stack looks a LiveFunction up in a deployed stack: drop it with --local.");
    }
    return {
      name: args.positionals[0] ?? "",
      event: args.value("event"),
      stack: args.value("stack"),
      region: args.value("region"),
      local: args.flag("local"),
      endpoint: args.value("endpoint"),
      json: args.flag("json"),
    };
  },
  run: (options, io, deps) => invoke(options, io, deps),
});

/** Runs `pulumi-live invoke`; resolves with the exit code (1 when the function failed). */
export function runInvokeCommand(args: string[], io: CommandIo, deps: InvokeDeps = {}): Promise<number> {
  return invokeCommand.execute(args, io, deps);
}

async function invoke(values: InvokeOptions, io: CommandIo, deps: InvokeDeps): Promise<number> {
  const given = values.name;
  const payload = await readEvent(values.event, io, deps);
  const deployed = values.local
    ? { functionName: given }
    : await deployedFunction(given, values.stack, io, deps);
  const name = deployed.functionName;
  const region = values.region ?? deployed.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  const { InvokeCommand, LambdaClient } = await import("@aws-sdk/client-lambda");
  const endpoint = values.local ? (values.endpoint ?? DEFAULT_LOCAL_ENDPOINT) : undefined;
  const client = new LambdaClient({
    maxAttempts: 1,
    ...(endpoint
      ? { endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : { region }),
  });
  const target = endpoint ?? `AWS Lambda (${region ?? "your profile's region"})`;
  let out;
  try {
    out = await client.send(
      new InvokeCommand({ FunctionName: name, Payload: Buffer.from(payload), LogType: "Tail" }),
    );
  } catch (error) {
    throw explain(error, target, name);
  } finally {
    client.destroy();
  }
  const text = Buffer.from(out.Payload ?? []).toString("utf8");
  const logs = out.LogResult ? Buffer.from(out.LogResult, "base64").toString("utf8") : "";
  let result: unknown = text;
  try {
    result = text ? JSON.parse(text) : null;
  } catch {
    // Lambda returns JSON; keep what came if not.
  }
  const failed = out.FunctionError !== undefined;
  const requestId = out.$metadata.requestId;
  if (values.json) {
    io.stdout(
      JSON.stringify({
        ok: !failed,
        status: out.StatusCode,
        functionError: out.FunctionError,
        requestId,
        result,
        logs,
      }) + "\n",
    );
    return failed ? 1 : 0;
  }
  const shown = deployed.liveFunction ? `${deployed.liveFunction} (${name})` : name;
  const lines = [`${failed ? "✗" : "✓"} ${shown} ${requestId ?? ""}  ${out.StatusCode ?? ""}`.trimEnd()];
  if (failed) {
    const error = result as Partial<LambdaError>;
    lines.push(`  ${error.errorType ?? out.FunctionError}: ${error.errorMessage ?? text}`);
    for (const line of (error.trace ?? []).slice(1)) lines.push(`    ${line.trim()}`);
  } else {
    lines.push(...JSON.stringify(result, null, 2).split("\n"));
  }
  if (logs.trim())
    lines.push(
      "log tail:",
      ...logs
        .trimEnd()
        .split("\n")
        .map((line) => `  │ ${line}`),
    );
  io.stdout(lines.join("\n") + "\n");
  return failed ? 1 : 0;
}
