/**
 * Whether a local Lambda execution environment can be a worker thread of serve or must be a process of
 * its own. A thread has its own `process.env`, but Node reads a few variables only when a process
 * starts (and the time zone is the process's): a function that sets one of these gets processes, so
 * that it sees what it would on Lambda.
 */

/** Variables Node reads once, when the process starts; a thread's own copy would change nothing. */
const PROCESS_START_VARIABLES = [
  "NODE_OPTIONS",
  "NODE_EXTRA_CA_CERTS",
  "NODE_ICU_DATA",
  "UV_THREADPOOL_SIZE",
];

export type EnvironmentKind = "thread" | "process";

/**
 * `own` is what the function itself sets (over Lambda's base variables). Lambda's own `TZ=:UTC` is not
 * followed by a thread, which keeps serve's zone: the stub that runs there uses UTC times only. A
 * function that sets a zone of its own gets processes. So does every function while serve's process is
 * being debugged (`debugged`): a debugger attached to serve would otherwise see, and stop, the stub's
 * threads beside the handlers' workers it is there for.
 */
export function environmentKind(own: Record<string, string>, debugged = false): EnvironmentKind {
  if (debugged) return "process";
  const names = Object.keys(own);
  if (names.includes("TZ")) return "process";
  return PROCESS_START_VARIABLES.some((name) => names.includes(name)) ? "process" : "thread";
}
