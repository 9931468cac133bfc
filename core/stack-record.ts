/**
 * What a deployed stack records for pulumi-live, as the SDK writes it into state and `serve`/`status`
 * read it back from `pulumi stack export`: one contract, so a field renamed on one side is a type error
 * on the other.
 */

/** The registered outputs of the stack's `Session` component, besides the session key. */
export interface SessionRecord {
  organization: string;
  project: string;
  stack: string;
  /** Made once by the Session's provider: what makes the stack's topics its own. */
  namespaceId: string;
  /** The stack's topic prefix, `pulumi-live/<organization>/<project>/<stack>/<namespace id>`. */
  prefix: string;
  /** What the client ids of the stack's relay stubs start with. */
  stubClientPrefix: string;
  /** What the client ids of the stack's serving sessions (the developer's) start with. */
  sessionClientPrefix: string;
  /** The AWS IoT data endpoint (`iot:Data-ATS`). */
  endpoint: string;
  region: string;
  protocolVersion: number;
}

/** The registered outputs of each `LiveFunction` component. */
export interface FunctionRecord {
  /** The deployed function's physical name. */
  functionName: string;
  functionArn: string;
  /** The function's id in topics (from its logical name). */
  functionId: string;
  /** `path/to/file.export`, relative to the project root. */
  handler: string;
  runtime: string;
  live: boolean;
  roleArn: string;
}
