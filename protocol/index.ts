/** The wire protocol shared by the relay stub and the CLI: pure functions, no MQTT client in here. */
export * from "./limits";
export * from "./messages";
export * from "./topics";
export * from "./seal";
export * from "./frame";
export * from "./reassembly";
export * from "./environment";
export * from "./pace";
export * from "./presence";
// What a local handler sees: the rule lives with the other local-run rules, in core/.
export { localEnvironment } from "../core/local-environment";
