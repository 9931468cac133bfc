/** What the CLI and the child process that runs the Pulumi program tell each other (over IPC). */

/** The CLI's request: run this program under mocks. */
export interface HostInput {
  root: string;
  main: string;
  typescript: boolean;
  project: string;
  stack: string;
  /** Namespaced config, `live` already on. */
  config: Record<string, string>;
  secretKeys: string[];
  region: string;
  account: string;
  /** The local gateway: mock URLs of function URLs, HTTP APIs and queues point at it. */
  gatewayUrl: string;
}

/** One resource the program registered, as the mocked engine saw it. */
export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  parent?: string;
  custom: boolean;
  /** Inputs as the program passed them, secrets unwrapped, assets and archives left out. */
  inputs: Record<string, unknown>;
  /** What the mocks answered: inputs plus mocked outputs. */
  state: Record<string, unknown>;
  /** A component's registered outputs. */
  outputs?: Record<string, unknown>;
}

/** Where an error was thrown, for a message that names the file and line. */
export interface ProgramErrorReport {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  /** esbuild's location of a syntax error in a TypeScript file. */
  location?: { file: string; line: number; column: number };
}

export type HostReport =
  | { type: "done"; resources: RecordedResource[]; unknownCalls: string[] }
  | { type: "failed"; error: ProgramErrorReport; unknownCalls: string[] };
