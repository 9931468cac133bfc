/** pulumi-live for Pulumi programs: the `LiveFunction` component and what it is built from. */
export { LiveFunction, DEFAULT_RUNTIME } from "./live-function";
export { STUB_BUNDLE, SESSION_NAME, FUNCTION_TYPE, SESSION_TYPE } from "../core/names";
export type { LiveFunctionArgs, LiveFunctionNodes } from "./live-function";
export type { BundleOptions } from "./bundle";
export { LiveFunctionError } from "./errors";
export type { LiveFunctionProblem } from "./errors";
export { LIVE_VALUES, parseLiveValue } from "./live-config";
export { developerPolicyDocument, stubPolicyDocument, stubDisabledPolicyDocument } from "../core/iot-policy";
export type {
  DeveloperScope,
  IotScope,
  PolicyDocument,
  PolicyStatement,
  StubScope,
} from "../core/iot-policy";
export { Session, sessionProvider } from "./session";
export type { SessionArgs, SessionInputs, SessionOutputs } from "./session";
