/**
 * `pulumi-live serve`: a deployed stack's live functions, or with `--local` the whole loop on this
 * machine. Runs until Ctrl+C (SIGINT), SIGTERM, or a newer session of the stack takes over.
 */
import path from "node:path";
import { defineCommand } from "../command-line/command";
import { CWD_OPTION, type OptionDefinition } from "../command-line/definition";
import { wholeNumber, type ParsedArgs } from "../command-line/parse";
import { humanReporter, jsonReporter, terminalOptions, type Reporter } from "../reporter";
import { UserError } from "../user-error";
import type { CommandIo } from "./command-io";
import { ENDPOINT_OPTIONS, readEndpoint } from "./status";
import {
  resolveServeLocalOptions,
  startLocalServer,
  type LocalServer,
  type ServeLocalOptions,
} from "./serve-local";
import {
  resolveServeStackOptions,
  startStackServer,
  type ServeStackOptions,
  type StackServer,
} from "./serve-stack";

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

const LOCAL = "local";
const STACK = "stack";

const OPTIONS: OptionDefinition[] = [
  { name: "local", description: "run the whole loop on this machine: no AWS account, no deployed stack" },
  {
    name: "stack",
    takes: "value",
    placeholder: "NAME",
    description: "the Pulumi stack (with --local: whose config the program reads)",
    default: "the selected one; with --local, else the only one",
  },
  CWD_OPTION,
  {
    name: "inspect",
    takes: "optional-value",
    placeholder: "HOST:PORT",
    description: "make handlers debuggable; invocations held at a breakpoint are not killed",
    default: "127.0.0.1:9229",
  },
  {
    name: "record",
    takes: "value",
    placeholder: "N",
    description: "invocation records kept per function in .pulumi-live/log",
    default: "100",
  },
  { name: "no-record", description: "keep no invocation records" },
  {
    name: "python",
    takes: "value",
    placeholder: "PATH",
    description: "the interpreter of Python handlers",
    default: "the project's .venv, else python3",
  },
  {
    name: "concurrency",
    takes: "value",
    placeholder: "N",
    description: "local workers at most",
    default: "16",
  },
  {
    name: "env",
    takes: "value",
    repeatable: true,
    placeholder: "KEY=VALUE",
    description: "a local variable of every function, over its deployed (or the program's) ones",
  },
  {
    name: "env-file",
    takes: "value",
    placeholder: "FILE",
    description: "local variables from a file, under --env",
    default: ".pulumi-live/local.env, if it exists",
  },
  { name: "no-watch", description: "build once; do not rebuild on edits" },
  { name: "json", description: "print NDJSON events (the first is ready) instead of lines for people" },
  {
    name: "function",
    takes: "value",
    repeatable: true,
    placeholder: "NAME=PATH.EXPORT",
    description:
      "a function to serve instead of the program's, e.g. api=src/api.handler: export handler of " +
      "src/api.ts (or .mts, .js, ...), else of src/api.py; the export follows the last dot",
    group: LOCAL,
  },
  {
    name: "http-source",
    takes: "value",
    repeatable: true,
    placeholder: "[NAME=]KIND",
    description:
      "the event HTTP requests to /NAME/ imitate: http-api, function-url, rest-api, alb, alb-multi; a " +
      "function URL the program declares decides by itself",
    default: "http-api",
    group: LOCAL,
  },
  {
    name: "streaming",
    takes: "value",
    repeatable: true,
    placeholder: "NAME",
    description:
      "a --function whose handler streams (awslambda.streamifyResponse), served as a RESPONSE_STREAM " +
      "function URL and by InvokeWithResponseStream; a LiveFunction says streaming: true itself",
    group: LOCAL,
  },
  {
    name: "port",
    takes: "value",
    placeholder: "N",
    description: "the gateway's port on 127.0.0.1; 0 picks a free one",
    default: "3000",
    group: LOCAL,
  },
  {
    name: "broker",
    takes: "value",
    placeholder: "ws://HOST:PORT",
    description: "an external MQTT-over-WebSocket broker (e.g. mosquitto) instead of the embedded one",
    group: LOCAL,
  },
  {
    name: "timeout",
    takes: "value",
    placeholder: "SECONDS",
    description: "the functions' timeout",
    default: "the program's, else 3; 30 with --function",
    group: LOCAL,
  },
  {
    name: "only",
    takes: "value",
    placeholder: "a,b",
    description: "serve these live functions only; the others fall back or fail fast, as their stub decides",
    group: STACK,
  },
  {
    name: "profile",
    takes: "value",
    placeholder: "NAME",
    description: "the AWS profile",
    default: "AWS_PROFILE, then the default chain",
    group: STACK,
  },
  {
    name: "connections",
    takes: "value",
    placeholder: "N",
    description:
      "MQTT connections to spread over: AWS IoT Core carries at most 100 messages and 512 KiB a second " +
      "per connection each way",
    default: "8",
    group: STACK,
  },
  ...ENDPOINT_OPTIONS.map((option) => ({ ...option, group: STACK })),
];

/** Options given that belong to the other mode, as `--name` strings. */
function ofGroup(args: ParsedArgs, group: string): string[] {
  return OPTIONS.filter((o) => o.group === group && args.has(o.name)).map((o) => `--${o.name}`);
}

type ServeOptions =
  | { mode: "local"; json: boolean; options: Omit<ServeLocalOptions, "reporter"> }
  | { mode: "stack"; json: boolean; options: Omit<ServeStackOptions, "reporter"> };

/** Checks options the way the server will, so that every problem is reported now, together. */
function check(resolve: () => unknown, problems: string[]): void {
  try {
    resolve();
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    problems.push(...error.problems);
  }
}

function read(args: ParsedArgs, problems: string[], io: CommandIo): ServeOptions {
  const local = args.flag("local");
  const stackFlags = ofGroup(args, STACK);
  const localFlags = ofGroup(args, LOCAL);
  if (local && stackFlags.length > 0) {
    problems.push(
      `${stackFlags.join(", ")} serve a deployed stack; serve --local runs without one. Drop them, or drop --local.`,
    );
  }
  if (!local && localFlags.length > 0) {
    problems.push(
      `${localFlags.join(", ")} belong to serve --local. Add --local to run the loop on this machine; to ` +
        "serve a deployed stack, the functions come from the stack (pick some with --only a,b).",
    );
  }
  const inspect = args.value("inspect");
  const common = {
    concurrency: wholeNumber(args, "concurrency", problems),
    watch: !args.flag("no-watch"),
    inspect: inspect === "" ? (true as const) : inspect,
    record: args.flag("no-record") ? (false as const) : wholeNumber(args, "record", problems),
    python: args.value("python"),
  };
  if (args.flag("no-record") && args.has("record")) {
    problems.push("--record and --no-record contradict each other: give one.");
  }
  const json = args.flag("json");
  if (local) {
    const options = {
      ...common,
      cwd: path.resolve(io.cwd, args.value("cwd") ?? "."),
      stack: args.value("stack"),
      httpSource: [...args.values("http-source")],
      streaming: [...args.values("streaming")],
      functions: [...args.values("function")],
      port: wholeNumber(args, "port", problems),
      broker: args.value("broker"),
      timeoutSeconds: wholeNumber(args, "timeout", problems),
      env: [...args.values("env")],
      envFile: args.value("env-file"),
    };
    check(() => resolveServeLocalOptions(options), problems);
    return { mode: "local", json, options };
  }
  const options = {
    ...common,
    stack: args.value("stack"),
    cwd: args.value("cwd"),
    only: args
      .value("only")
      ?.split(",")
      .map((name) => name.trim())
      .filter(Boolean),
    profile: args.value("profile"),
    connections: wholeNumber(args, "connections", problems),
    endpoint: readEndpoint(args, problems),
    variables: [...args.values("env")],
    envFile: args.value("env-file"),
    env: io.env,
  };
  check(() => resolveServeStackOptions(options), problems);
  return { mode: "stack", json, options };
}

/** Serves until SIGINT, SIGTERM or a takeover; then prints what was dropped and the summary. */
async function serve(serveOptions: ServeOptions, io: CommandIo): Promise<number> {
  const reporter: Reporter = serveOptions.json
    ? jsonReporter(io.stdout)
    : humanReporter(io.stdout, { ...terminalOptions(process.stdout, io.env), cwd: io.cwd });
  const server: LocalServer | StackServer =
    serveOptions.mode === "local"
      ? await startLocalServer({ ...serveOptions.options, reporter })
      : await startStackServer({ ...serveOptions.options, reporter });
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
  return 0;
}

export const serveCommand = defineCommand<ServeOptions>({
  name: "serve",
  summary: "run live functions from local source: a deployed stack's, or with --local all on this machine",
  usage: [
    "[--stack NAME] [--cwd DIR] [--only a,b] [options]",
    "--local [--stack NAME] [--cwd DIR] [options]",
    "--local --function NAME=PATH.EXPORT [...] [options]",
  ],
  description:
    "Without --local: reads the stack through the pulumi CLI, connects to its AWS IoT endpoint with your AWS " +
    "credentials and runs each invocation of its live functions from your local source, rebuilt on every " +
    "edit.\n\nWith --local: reads the Pulumi program (under mocks, no AWS account) for its LiveFunctions " +
    "and their triggers (function URLs, HTTP API routes, SQS queues, EventBridge schedules), or serves just " +
    "the handlers named by --function; an embedded MQTT broker, the deployed stub bundle in local " +
    "Lambda-like environments (worker threads) and a gateway on 127.0.0.1 that speaks the Lambda Invoke API and turns plain " +
    "HTTP requests into the events of each front door.\n\nCtrl+C stops and prints a summary.",
  options: OPTIONS,
  groups: { [LOCAL]: "Options of serve --local", [STACK]: "Options of serve (a deployed stack)" },
  read,
  run: (options, io) => serve(options, io),
});
