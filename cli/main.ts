import { parseArgs } from "node:util";
import { runFireCommand } from "./commands/fire";
import { runInitCommand } from "./commands/init";
import { runInvokeCommand } from "./commands/invoke";
import { runReplayCommand } from "./commands/replay";
import { startLocalServer } from "./commands/serve-local";
import { runPolicyCommand } from "./commands/policy";
import { startStackServer } from "./commands/serve-stack";
import { parseEndpointOptions } from "./aws/iot-endpoint";
import { formatStatus, stackStatus } from "./commands/status";
import { normalizeInspectFlag } from "./debug/inspector";
import { humanReporter, jsonReporter, terminalOptions, type Reporter } from "./reporter";
import { UserError } from "./user-error";

const HELP = `pulumi-live — live AWS Lambda development for Pulumi

Usage:
  pulumi-live serve --local [--stack NAME] [--cwd DIR]          run the whole loop on this machine: the Pulumi
                                                                program's LiveFunctions and their triggers
  pulumi-live serve --local --function NAME=PATH.EXPORT [...]   ... or just these handlers
  pulumi-live serve [--stack NAME] [--cwd DIR] [--only a,b]     serve a deployed stack's live functions
  pulumi-live status [--stack NAME] [--cwd DIR]                 the stack's live functions and its session
  pulumi-live policy [--stack NAME] [--cwd DIR]                 the IAM policy your identity needs to serve the stack
  pulumi-live invoke FUNCTION [--event FILE|-] [--local]        invoke a deployed (or local) function
  pulumi-live replay REQUEST-ID|FILE [--json]                   run a recorded invocation again, locally
  pulumi-live init [vscode]                                     ignore .pulumi-live/; write a VS Code launch config
  pulumi-live fire RULE [--endpoint URL] [--json]               fire a local EventBridge schedule now (serve --local)

Options of serve, both modes:
  --inspect[=HOST:PORT]        make handlers debuggable (default 127.0.0.1:9229); held invocations are not killed
  --record N                   invocation records kept per function in .pulumi-live/log (default 100)
  --no-record                  keep no records
  --python PATH                the interpreter of Python handlers (default: the project's .venv, else python3)

Options of serve (a deployed stack) and status:
  --stack NAME                 the Pulumi stack (default: the selected one)
  --cwd DIR                    the Pulumi project folder (default: the current one)
  --only a,b                   serve these live functions only (serve)
  --profile NAME               the AWS profile (default: AWS_PROFILE, then the default chain)
  --concurrency N              local workers at most (serve; default 16)
  --connections N              MQTT connections to spread over (serve; default 8): AWS IoT Core carries
                               at most 100 messages and 512 KiB a second per connection each way
  --endpoint HOST[:PORT]       connect there instead of the stack's IoT endpoint: an IoT custom domain or
                               a VPC interface endpoint (TLS and SigV4 as for AWS IoT)
  --ca-file PATH               trust the certificate authorities in this PEM file (a private CA)
  --no-watch                   build once; do not rebuild on edits (serve)
  --env KEY=VALUE              a local variable of every function, over its deployed ones (repeatable)
  --env-file FILE              local variables from a file (default .pulumi-live/local.env, if it exists)
  --json                       print NDJSON events (serve) or one JSON object (status)

Options of serve --local:
  --stack NAME                 the stack whose config the program reads (default: the selected one, else the only one)
  --cwd DIR                    the Pulumi project folder (default: the current one)
  --function NAME=PATH.EXPORT  a function to serve (repeatable), e.g. api=src/api.handler; the program is not run
  --http-source [NAME=]KIND    the event HTTP requests to /NAME/ imitate: http-api (default), function-url,
                               rest-api, alb, alb-multi; a function URL the program declares decides by itself
  --port N                     gateway port on 127.0.0.1 (default 3000; 0 picks a free port)
  --broker ws://HOST:PORT      use this MQTT broker instead of the embedded one
  --concurrency N              local workers at most (default 16)
  --timeout SECONDS            the functions' timeout (default: the program's, else 3; 30 with --function)
  --env KEY=VALUE              an environment variable of every function (repeatable)
  --env-file FILE              local variables over them, as for serve
  --no-watch                   build once; do not rebuild on edits
  --json                       print NDJSON events instead of lines for people

  -h, --help                   this help
  -v, --version                the version
`;

function version(): string {
  return (require("../../package.json") as { version: string }).version;
}

/** One line on what the session dropped, when it dropped anything (frames not sealed with the key, ...). */
export function droppedSummary(drops: Record<string, number>): string | undefined {
  const kinds = ["unsealed", "malformed", "oversized", "expired", "evicted", "foreign"] as const;
  const parts = kinds.filter((kind) => (drops[kind] ?? 0) > 0).map((kind) => `${drops[kind]} ${kind}`);
  if (parts.length === 0) return undefined;
  return (
    `dropped messages: ${parts.join(", ")}. Unsealed or foreign ones are not this stack's (another key: ` +
    `an old deployment, or someone else on the topics); expired ones arrived after their deadline.`
  );
}

function wholeNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UserError(`${flag} takes a whole number (got "${value}").`);
  return Number(value);
}

async function serve(args: string[], stdout: (s: string) => void): Promise<void> {
  const { values } = parseArgs({
    args: normalizeInspectFlag(args),
    allowPositionals: false,
    options: {
      inspect: { type: "string" },
      record: { type: "string" },
      "no-record": { type: "boolean" },
      python: { type: "string" },
      local: { type: "boolean" },
      function: { type: "string", multiple: true },
      port: { type: "string" },
      broker: { type: "string" },
      concurrency: { type: "string" },
      timeout: { type: "string" },
      env: { type: "string", multiple: true },
      "env-file": { type: "string" },
      "http-source": { type: "string", multiple: true },
      "no-watch": { type: "boolean" },
      json: { type: "boolean" },
      stack: { type: "string" },
      cwd: { type: "string" },
      only: { type: "string" },
      profile: { type: "string" },
      connections: { type: "string" },
      endpoint: { type: "string" },
      "ca-file": { type: "string" },
    },
  });
  const reporter: Reporter = values.json
    ? jsonReporter(stdout)
    : humanReporter(stdout, { ...terminalOptions(process.stdout, process.env), cwd: process.cwd() });
  const inspect = values.inspect === "" ? true : values.inspect;
  const record = values["no-record"] ? false : wholeNumber("--record", values.record);
  const stackFlags = (["only", "profile", "connections", "endpoint", "ca-file"] as const).filter(
    (f) => values[f] !== undefined,
  );
  const localFlags = (["function", "port", "broker", "timeout", "http-source"] as const).filter(
    (f) => values[f] !== undefined,
  );
  if (values.local && stackFlags.length > 0) {
    throw new UserError(
      `${stackFlags.map((f) => `--${f}`).join(", ")} serve a deployed stack; serve --local runs without one. ` +
        "Drop them, or drop --local.",
    );
  }
  if (!values.local && localFlags.length > 0) {
    throw new UserError(
      `${localFlags.map((f) => `--${f}`).join(", ")} belong to serve --local. Add --local to run the loop on ` +
        "this machine; to serve a deployed stack, the functions come from the stack (pick some with --only a,b).",
    );
  }
  const server = values.local
    ? await startLocalServer({
        functions: values.function ?? [],
        cwd: values.cwd,
        stack: values.stack,
        httpSource: values["http-source"],
        port: wholeNumber("--port", values.port),
        broker: values.broker,
        concurrency: wholeNumber("--concurrency", values.concurrency),
        timeoutSeconds: wholeNumber("--timeout", values.timeout),
        env: values.env,
        envFile: values["env-file"],
        watch: !values["no-watch"],
        inspect,
        record,
        python: values.python,
        reporter,
      })
    : await startStackServer({
        stack: values.stack,
        cwd: values.cwd,
        only: values.only
          ?.split(",")
          .map((name) => name.trim())
          .filter(Boolean),
        profile: values.profile,
        endpoint: parseEndpointOptions(values.endpoint, values["ca-file"]),
        connections: wholeNumber("--connections", values.connections),
        variables: values.env,
        envFile: values["env-file"],
        concurrency: wholeNumber("--concurrency", values.concurrency),
        watch: !values["no-watch"],
        inspect,
        record,
        python: values.python,
        reporter,
      });
  const takenOver = "takenOver" in server ? server.takenOver : new Promise<never>(() => undefined);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      void server.close().finally(() => {
        const dropped = droppedSummary(server.session.drops);
        if (dropped) reporter.status({ message: dropped });
        reporter.summary();
        resolve();
      });
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    // A newer session of the stack serves now: this one has said so; it stops.
    void takenOver.then(stop);
  });
}

async function status(args: string[], stdout: (s: string) => void): Promise<void> {
  const { values } = parseArgs({
    args,
    allowPositionals: false,
    options: {
      stack: { type: "string" },
      cwd: { type: "string" },
      profile: { type: "string" },
      json: { type: "boolean" },
      endpoint: { type: "string" },
      "ca-file": { type: "string" },
    },
  });
  const result = await stackStatus({
    stack: values.stack,
    cwd: values.cwd,
    profile: values.profile,
    endpoint: parseEndpointOptions(values.endpoint, values["ca-file"]),
  });
  stdout(values.json ? JSON.stringify(result) + "\n" : formatStatus(result));
}

/** Runs the CLI; resolves with the exit code. */
export async function main(
  argv: string[],
  stdout = (s: string) => void process.stdout.write(s),
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === "-h" || command === "--help" || command === "help") {
      stdout(HELP);
      return 0;
    }
    if (command === "-v" || command === "--version") {
      stdout(version() + "\n");
      return 0;
    }
    if (command === "serve") {
      await serve(rest, stdout);
      return 0;
    }
    if (command === "status") {
      await status(rest, stdout);
      return 0;
    }
    const io = {
      stdout,
      stderr: (s: string) => void process.stderr.write(s),
      cwd: process.cwd(),
      env: process.env,
    };
    if (command === "invoke") return await runInvokeCommand(rest, io);
    if (command === "replay") return await runReplayCommand(rest, io);
    if (command === "init") return await runInitCommand(rest, io);
    if (command === "policy") return await runPolicyCommand(rest, io);
    if (command === "fire") return await runFireCommand(rest, io);
    throw new UserError(`Unknown command "${command}". Run pulumi-live --help for the commands.`);
  } catch (error) {
    const e = error as Error & { code?: string };
    if (error instanceof UserError || e.code?.startsWith("ERR_PARSE_ARGS")) {
      const hint = error instanceof UserError ? "" : ". Run pulumi-live --help for the commands and options.";
      process.stderr.write(`pulumi-live: ${e.message}${hint}\n`);
      return 2;
    }
    process.stderr.write(`pulumi-live: unexpected error (a bug; please report it):\n${e.stack ?? e}\n`);
    return 1;
  }
}
