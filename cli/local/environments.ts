import { randomBytes, randomUUID } from "node:crypto";
import { url as inspectorUrl } from "node:inspector";
import { dirname, basename, extname } from "node:path";
import type { EnvironmentOptions, LocalEnvironment } from "./environment-base";
import { environmentKind, type EnvironmentKind } from "./environment-kind";
import { EnvironmentProcess } from "./environment-process";
import { EnvironmentThread } from "./environment-thread";
import { SharedEnvironmentThread } from "./shared-environment-thread";
import { moduleFormat } from "../../core/handler";
import type { InvokeOptions, InvokeResult, Invoker } from "./invoker";
import { BufferedStream } from "./buffered-stream";
import type { InProcessBroker } from "./thread-broker-link";

/** One locally served function. */
export interface LocalFunctionOptions {
  /** The function's name, as `AWS_LAMBDA_FUNCTION_NAME` and in the Invoke API path. */
  name: string;
  /** Absolute path of the CommonJS or ES module file that exports the handler. */
  handlerFile: string;
  /** The export to call; `a.b` reaches nested exports. */
  handlerExport: string;
  /** Added on top of the Lambda-like base environment. */
  environment?: Record<string, string>;
  /** @default 3 */
  timeoutSeconds?: number;
  /** @default 128 */
  memoryMB?: number;
  /** @default "us-east-1" */
  region?: string;
  /** Environments that may run at once; further invocations wait in order. @default 10 */
  maxEnvironments?: number;
  /** Receives every line the environments print. */
  onLog?: (name: string, line: string) => void;
  /** The function streams its response: for the gateway, which then serves it as a stream. */
  streaming?: boolean;
  /**
   * How each environment is hosted: a worker thread of this process, or a process of its own.
   * @default a thread, unless `environment` sets what Node reads only at a process's start or this process
   * is being debugged (environment-kind.ts)
   */
  kind?: EnvironmentKind;
  /**
   * The embedded broker of this process, when the function is the stub: each thread environment's stub
   * then reaches it over the thread's port instead of its WebSocket URL (processes keep the URL).
   */
  broker?: InProcessBroker;
  /**
   * Thread environments share threads, up to {@link ENVIRONMENTS_PER_THREAD} in each, each environment an
   * instance of its own of the handler module (`shared-environment-thread.ts`). For the stub bundle, a
   * CommonJS module whose state is all there is to an environment: a handler of the user's gets a thread
   * or process of its own, so that nothing it does to its realm reaches another environment.
   */
  shareThreads?: boolean;
}

/**
 * Environments in one shared thread at most. The fewer isolates, the less compiling and collecting: 16
 * clients through the gateway got 1,008 and 1,197/s (serve's CPU 1.59 and 1.32 ms per invocation) with
 * 16 per thread, 918 and 886/s (1.77 and 1.83 ms) with 8 (`npm run bench -- --only serve --rebuilds 100`).
 * A thread's stubs take turns on one core: at 1,000/s they keep it about 40% busy.
 */
export const ENVIRONMENTS_PER_THREAD = 16;

/** The temporary credentials a local function's environments see, in the shapes STS issues. */
export interface LocalCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * A function served locally the way Lambda serves it: one invocation at a time per environment (a
 * worker thread, an instance of the module in a thread shared with others of the function's environments
 * (`shareThreads`), or a process where a thread cannot be what Lambda's would), another environment for
 * each concurrent invocation (up to `maxEnvironments`, then a FIFO queue), warm environments reused, the
 * timeout enforced by killing the environment, and crashed or timed-out environments replaced.
 */
export class LocalFunction implements Invoker {
  readonly name: string;
  readonly streaming: boolean;
  /** Random per function, so a test can check that the handler sees exactly these. */
  readonly credentials: LocalCredentials;
  /** How its environments are hosted. */
  readonly kind: EnvironmentKind;
  private readonly options: Required<
    Omit<LocalFunctionOptions, "onLog" | "streaming" | "kind" | "broker" | "shareThreads">
  > &
    Pick<LocalFunctionOptions, "onLog" | "broker" | "shareThreads">;
  private readonly idle: LocalEnvironment[] = [];
  private readonly all = new Set<LocalEnvironment>();
  private readonly waiting: Array<(environment: LocalEnvironment | Error) => void> = [];
  /** The threads its environments share (`shareThreads`). */
  private threads: SharedEnvironmentThread[] = [];
  private closing: Promise<void> | undefined;

  constructor(options: LocalFunctionOptions) {
    this.options = {
      environment: {},
      timeoutSeconds: 3,
      memoryMB: 128,
      region: "us-east-1",
      maxEnvironments: 10,
      ...options,
    };
    this.name = options.name;
    this.streaming = options.streaming ?? false;
    this.kind = options.kind ?? environmentKind(options.environment ?? {}, inspectorUrl() !== undefined);
    if (options.shareThreads && moduleFormat(options.handlerFile) !== "cjs") {
      throw new Error(
        `shareThreads needs a CommonJS module; ${options.handlerFile} is an ES module (give it threads of its own).`,
      );
    }
    this.credentials = {
      accessKeyId: `ASIA${randomChars(16)}`,
      secretAccessKey: randomBytes(30).toString("base64"),
      sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(240).toString("base64")}`,
    };
  }

  /** Environments currently running (busy or warm). */
  get environmentCount(): number {
    return this.all.size;
  }

  async invoke(payload: Buffer, options: InvokeOptions): Promise<InvokeResult> {
    const requestId = options.requestId ?? randomUUID();
    // A caller that takes no stream gets a streaming handler's bytes gathered, as Lambda's Invoke API.
    const buffered = options.stream ? undefined : new BufferedStream();
    const environment = await this.acquire();
    try {
      const result = await environment.invoke(
        payload,
        requestId,
        options.tail,
        options.stream ?? buffered?.consumer,
      );
      return buffered ? buffered.result(result) : result;
    } finally {
      this.release(environment);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const error = new Error(
        `Local function "${this.name}" is closed; restart pulumi-live serve to invoke it.`,
      );
      for (const waiter of this.waiting.splice(0)) waiter(error);
      this.idle.length = 0;
      await Promise.allSettled([...this.all].map((environment) => environment.kill()));
      this.all.clear();
      await Promise.allSettled(this.threads.map((thread) => thread.terminate()));
      this.threads = [];
    })();
    return this.closing;
  }

  private acquire(): Promise<LocalEnvironment> {
    if (this.closing) return Promise.reject(new Error(`Local function "${this.name}" is closed.`));
    // An idle environment may have died (an error thrown from a timer between invocations).
    for (let warm = this.idle.pop(); warm; warm = this.idle.pop()) {
      if (warm.alive) return Promise.resolve(warm);
      this.all.delete(warm);
      void warm.kill();
    }
    if (this.all.size < this.options.maxEnvironments) return Promise.resolve(this.start());
    return new Promise((resolve, reject) => {
      this.waiting.push((environment) =>
        environment instanceof Error ? reject(environment) : resolve(environment),
      );
    });
  }

  private release(environment: LocalEnvironment): void {
    if (this.closing) return;
    if (!environment.alive) {
      this.all.delete(environment);
      void environment.kill();
    }
    const next = this.waiting.shift();
    if (next) next(environment.alive ? environment : this.start());
    else if (environment.alive) this.idle.push(environment);
  }

  private start(): LocalEnvironment {
    const { name, handlerFile, handlerExport, memoryMB, timeoutSeconds, onLog, broker } = this.options;
    const options: EnvironmentOptions = {
      name,
      handlerFile,
      handlerExport,
      env: this.environmentVariables(),
      cwd: dirname(handlerFile),
      timeoutSeconds,
      memoryMB,
      ...(onLog ? { onLog } : {}),
      ...(broker ? { broker } : {}),
    };
    const environment =
      this.kind === "process"
        ? new EnvironmentProcess(options)
        : this.options.shareThreads
          ? this.sharedThread(options.env).open(options)
          : new EnvironmentThread(options);
    this.all.add(environment);
    return environment;
  }

  /** A shared thread with room for another environment: one that has, or a new one. */
  private sharedThread(env: Record<string, string>): SharedEnvironmentThread {
    this.threads = this.threads.filter((thread) => !thread.ending);
    const found = this.threads.find((thread) => thread.accepting);
    if (found) return found;
    const { name, handlerFile, handlerExport, memoryMB, onLog, broker } = this.options;
    const thread = new SharedEnvironmentThread({
      name,
      handlerFile,
      handlerExport,
      env,
      capacity: ENVIRONMENTS_PER_THREAD,
      memoryMB,
      ...(onLog ? { onLog } : {}),
      ...(broker ? { broker } : {}),
    });
    this.threads.push(thread);
    return thread;
  }

  /** The variables Lambda's Node.js runtime sets, local credentials, then the function's own. */
  private environmentVariables(): Record<string, string> {
    const { name, region, memoryMB, handlerFile, handlerExport, environment } = this.options;
    const day = new Date().toISOString().slice(0, 10).replaceAll("-", "/");
    const base: Record<string, string> = {
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMB),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[$LATEST]${randomBytes(16).toString("hex")}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
      AWS_ACCESS_KEY_ID: this.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: this.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: this.credentials.sessionToken,
      LAMBDA_TASK_ROOT: dirname(handlerFile),
      _HANDLER: `${basename(handlerFile, extname(handlerFile))}.${handlerExport}`,
      LANG: "en_US.UTF-8",
      TZ: ":UTC",
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    };
    return { ...base, ...environment };
  }
}

function randomChars(count: number): string {
  return Array.from(randomBytes(count), (byte) => UPPER_ALNUM[byte % UPPER_ALNUM.length]).join("");
}
