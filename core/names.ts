/** Names the SDK, the stub and the CLI must spell alike: type tokens, resource names, files. */
import path from "node:path";

/** Type token of the `LiveFunction` component (what the CLI looks for in a stack). */
export const FUNCTION_TYPE = "pulumi-live:aws:Function";

/** Type token of the `Session` component, one per stack in live mode. */
export const SESSION_TYPE = "pulumi-live:index:Session";

/** Logical name of the stack's one `Session`. */
export const SESSION_NAME = "pulumi-live-session";

/** The relay stub bundle built by `npm run build` (`dist/stub/bundle/index.js`): deployed while live. */
export const STUB_BUNDLE = path.join(__dirname, "..", "stub", "bundle", "index.js");

/** Where a project keeps pulumi-live's local files (builds, records): `<root>/.pulumi-live`. */
export const LOCAL_FOLDER = ".pulumi-live";

/** The prefix of every error type pulumi-live itself reports (never a handler's). */
export const ERROR_PREFIX = "PulumiLive.";
