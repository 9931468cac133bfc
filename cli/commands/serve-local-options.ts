import path from "node:path";
import { functionId } from "../../protocol";
import { parseInspect, type InspectAddress } from "../debug/inspector";
import { HTTP_SOURCES, isHttpSource, type HttpSource } from "../local/events/http-sources";
import { DEFAULT_KEEP } from "../record/invocation-record";
import type { Reporter } from "../reporter";
import { parseFunctionSpec, type FunctionSpec } from "../runtime/handler-spec";
import { parseEnvFlags } from "../../core/local-environment";
import { localVariables as readLocalVariables } from "../runtime/local-variables";
import { UserError } from "../user-error";

/** `pulumi-live serve --local` options as given on the command line. */
export interface ServeLocalOptions {
  /**
   * `name=path/to/file.export`, one per function. None: the functions and their triggers are read
   * from the project's Pulumi program.
   */
  functions: string[];
  cwd?: string;
  /** The stack whose config the program reads (`--stack`). @default the selected one, else the only one */
  stack?: string;
  /** `KIND` for every function, or `NAME=KIND` for one: the HTTP front door requests imitate. */
  httpSource?: string[];
  /** How long the program may run under mocks. @default 60000 */
  programTimeoutMs?: number;
  /** Gateway port; 0 picks a free one. @default 3000 */
  port?: number;
  /** An external broker (`ws://host:port`) instead of the embedded one. */
  broker?: string;
  /** Local workers at most, across functions. @default 16 */
  concurrency?: number;
  /** The local functions' timeout in seconds. @default the program's, else 30 with --function, 3 without */
  timeoutSeconds?: number;
  /** Variables of every function (`KEY=VALUE`): here there is no deployed function, so they are its own. */
  env?: string[];
  /** `--env-file FILE`; `.pulumi-live/local.env` in the folder when absent (if it exists). */
  envFile?: string;
  /** Lambda-like environments per function at most. @default 10 */
  maxEnvironments?: number;
  /** Rebuild on edits. @default true */
  watch?: boolean;
  /**
   * Open the debugger (`--inspect[=host:port]`): `true` for 127.0.0.1:9229, or `"host:port"`. Also on
   * when the process already has an inspector open. While debugging, invocations held past their
   * deadline are reported, not killed.
   */
  inspect?: string | true;
  /** Invocation records kept per function (`--record N`), or `false` (`--no-record`). @default 100 */
  record?: number | false;
  /** `--python PATH`: the interpreter of Python handlers. @default the project's .venv, else python3 */
  python?: string;
  reporter: Reporter;
}

/** The options resolved once: paths absolute, defaults applied, every problem reported together. */
export interface ResolvedServeLocalOptions {
  specs: FunctionSpec[];
  cwd: string;
  stack?: string;
  port: number;
  broker?: string;
  concurrency: number;
  /** Given with --timeout. */
  timeoutSeconds?: number;
  defaultHttpSource: HttpSource;
  httpSources: Map<string, HttpSource>;
  programTimeoutMs?: number;
  env: Record<string, string>;
  /** The developer's local variables (the env file), over the functions' own. */
  localVariables: Record<string, string>;
  maxEnvironments: number;
  watch: boolean;
  inspect?: InspectAddress;
  record: number | false;
  python?: string;
}

function positiveInteger(
  value: number | undefined,
  fallback: number,
  flag: string,
  problems: string[],
): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 0) problems.push(`${flag} must be a whole number ≥ 0 (got ${value}).`);
  return n;
}

/** Resolves the options, reporting every problem in one `UserError`. */
export function resolveServeLocalOptions(
  options: Omit<ServeLocalOptions, "reporter">,
): ResolvedServeLocalOptions {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const problems: string[] = [];
  const specs: FunctionSpec[] = [];
  for (const spec of options.functions) {
    try {
      const parsed = parseFunctionSpec(spec, cwd);
      if (specs.some((s) => functionId(s.name) === functionId(parsed.name))) {
        problems.push(`Two --function flags name "${parsed.name}": give each function its own name.`);
      } else specs.push(parsed);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  const env = parseEnvFlags(options.env ?? [], "--env", problems);
  const localVariables = readLocalVariables(cwd, { envFile: options.envFile }, cwd, problems);
  let inspect: InspectAddress | undefined;
  try {
    if (options.inspect !== undefined) inspect = parseInspect(options.inspect);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (options.record !== undefined && options.record !== false) {
    if (!Number.isInteger(options.record) || options.record < 1) {
      problems.push(
        `--record takes how many records to keep per function, 1 or more (got ${options.record}).`,
      );
    }
  }
  if (options.broker !== undefined && !/^ws:\/\/[^/]+/.test(options.broker)) {
    problems.push(
      `Invalid --broker "${options.broker}": expected ws://host:port of an MQTT-over-WebSocket listener.`,
    );
  }
  let defaultHttpSource: HttpSource = "http-api";
  const httpSources = new Map<string, HttpSource>();
  for (const flag of options.httpSource ?? []) {
    const equals = flag.indexOf("=");
    const kind = flag.slice(equals + 1).trim();
    if (!isHttpSource(kind)) {
      problems.push(
        `Invalid --http-source "${flag}": expected KIND or NAME=KIND, KIND one of ${HTTP_SOURCES.join(", ")}.`,
      );
    } else if (equals < 0) defaultHttpSource = kind;
    else httpSources.set(flag.slice(0, equals).trim(), kind);
  }
  const resolved: ResolvedServeLocalOptions = {
    specs,
    cwd,
    stack: options.stack,
    defaultHttpSource,
    httpSources,
    programTimeoutMs: options.programTimeoutMs,
    port: positiveInteger(options.port, 3000, "--port", problems),
    broker: options.broker,
    concurrency: Math.max(1, positiveInteger(options.concurrency, 16, "--concurrency", problems)),
    timeoutSeconds:
      options.timeoutSeconds === undefined
        ? undefined
        : Math.max(1, positiveInteger(options.timeoutSeconds, 30, "--timeout", problems)),
    env,
    localVariables,
    maxEnvironments: Math.max(
      1,
      positiveInteger(options.maxEnvironments, 10, "--max-environments", problems),
    ),
    watch: options.watch ?? true,
    inspect,
    record: options.record ?? DEFAULT_KEEP,
    python: options.python,
  };
  if (problems.length > 0) throw new UserError(problems);
  return resolved;
}
