/**
 * Which worker may run which invocation: a worker runs one bundle, export, memory size and environment
 * (its identity), recorded with what it was started with; and which warm workers a new build replaces
 * ahead of need (see WorkerPool.prewarm).
 */
import { environmentHash } from "../../protocol/environment";
import type { GoodBuild } from "./builder";
import { memoryLimitMb, type HandlerWorker, type WorkerRequest } from "./handler-worker";
import type { Slot } from "./invocation";
import { LogLines } from "./log-lines";

/** Environments of a function whose workers a new build replaces ahead of need, most recently used first. */
export const MAX_PREWARMED = 4;
/** Environments idle longer than this are not prewarmed (Lambda reclaims idle ones after minutes too). */
export const PREWARM_IDLE_MS = 5 * 60_000;

/** Environments' hashes by object: the session hands the same object for the same environment. */
const environmentHashes = new WeakMap<Record<string, string>, string>();

function hashOf(environment: Record<string, string>): string {
  let hash = environmentHashes.get(environment);
  if (hash === undefined) {
    hash = environmentHash(environment);
    environmentHashes.set(environment, hash);
  }
  return hash;
}

/** What a worker runs: the bundle, export, memory size and environment. Any change needs a new worker. */
export function identityOf(req: WorkerRequest): string {
  return `${req.build.file}\u0000${req.exportName}\u0000${memoryLimitMb(req)}\u0000${hashOf(req.environment)}`;
}

/** Whether `build` is an earlier build of the same handler than `than`. */
export function olderBuild(build: GoodBuild, than: GoodBuild): boolean {
  return build.entry === than.entry && build.version < than.version;
}

/**
 * The current workers a new build of `functionName` makes old: all of them retire; the most recently
 * used (up to MAX_PREWARMED, used within PREWARM_IDLE_MS) get a successor loading the new build now.
 */
export function prewarmPlan(
  current: Iterable<Slot>,
  functionName: string,
  build: GoodBuild,
  now: number,
): { retire: Slot[]; replace: Slot[] } {
  const retire = [...current]
    .filter((slot) => slot.functionName === functionName && olderBuild(slot.request.build, build))
    .sort((a, b) => b.lastUsed - a.lastUsed);
  const replace = retire.filter(
    (slot, index) => index < MAX_PREWARMED && now - slot.lastUsed <= PREWARM_IDLE_MS,
  );
  return { retire, replace };
}

/** The pool's record of a worker just started for `req` (its event is not kept). */
export function newSlot(req: WorkerRequest, key: string, identity: string, worker: HandlerWorker): Slot {
  const { functionName, envId, build, exportName, environment } = req;
  return {
    key,
    functionName,
    envId,
    identity,
    request: {
      functionName,
      envId,
      build,
      exportName,
      environment,
      context: { memoryLimitInMB: req.context.memoryLimitInMB },
    },
    worker,
    invocations: 0,
    early: [],
    lastRequestId: "",
    lastUsed: Date.now(),
    retiring: false,
    lines: new LogLines(),
  };
}
