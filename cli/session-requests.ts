/**
 * What a session does with a request, decided by pure functions: the exactly-once table and the
 * classification of each request (run it, answer it again, redirect it, drop it...). `session.ts` does the
 * I/O around them.
 */
import type { Message, RequestMessage } from "../protocol";

/** What the session remembers of one invocation it took. */
export interface Taken {
  /** Remembered until then (epoch ms): the request's deadline, past which any copy is dropped anyway. */
  until: number;
  /** Set once answered, while small and recent: a duplicate delivery gets the same answer again. */
  answer?: Message;
  answerBytes: number;
  /** When the kept answer is forgotten (epoch ms). */
  answerUntil: number;
}

export interface ExactlyOnceOptions {
  /** How long an answer is kept for duplicates after it was sent (ms). @default 60_000 */
  answerMs?: number;
  /** Largest answer kept, in published bytes. @default 256 KB */
  maxAnswerBytes?: number;
  /** Largest total of answers kept (bytes); the oldest answers go first. @default 32 MB */
  maxAnswersBytes?: number;
}

/**
 * The invocations a session took, each remembered until its deadline has passed: a duplicate or a
 * replayed capture that arrives before the deadline finds it here, and one that arrives after is dropped
 * as expired, so nothing runs twice. Only the answers are bounded, in time and size.
 */
export class ExactlyOnce {
  private readonly taken = new Map<string, Taken>();
  /** Ids with a kept answer, oldest first. */
  private readonly answered = new Map<string, Taken>();
  private answersBytes = 0;
  private lastPrune = 0;
  private readonly answerMs: number;
  private readonly maxAnswerBytes: number;
  private readonly maxAnswersBytes: number;

  constructor(options: ExactlyOnceOptions = {}) {
    this.answerMs = options.answerMs ?? 60_000;
    this.maxAnswerBytes = options.maxAnswerBytes ?? 256 * 1024;
    this.maxAnswersBytes = options.maxAnswersBytes ?? 32 * 1024 * 1024;
  }

  /** The key of one invocation: a retry by Lambda keeps the request id but has a new deadline. */
  static keyOf(request: Pick<RequestMessage, "requestId" | "deadline">): string {
    return `${request.requestId}\u0000${request.deadline}`;
  }

  get size(): number {
    return this.taken.size;
  }

  get keptAnswerBytes(): number {
    return this.answersBytes;
  }

  get(request: Pick<RequestMessage, "requestId" | "deadline">, now: number): Taken | undefined {
    this.prune(now);
    const key = ExactlyOnce.keyOf(request);
    const entry = this.taken.get(key);
    if (!entry) return undefined;
    if (entry.until < now) {
      this.dropAnswer(key, entry);
      this.taken.delete(key);
      return undefined;
    }
    if (entry.answer && entry.answerUntil < now) this.dropAnswer(key, entry);
    return entry;
  }

  /** Records an invocation as taken, before it runs. */
  take(request: Pick<RequestMessage, "requestId" | "deadline">): Taken {
    const entry: Taken = { until: request.deadline, answerBytes: 0, answerUntil: 0 };
    this.taken.set(ExactlyOnce.keyOf(request), entry);
    return entry;
  }

  /** Keeps the answer sent for a taken invocation, if it is small enough. */
  keepAnswer(
    request: Pick<RequestMessage, "requestId" | "deadline">,
    answer: Message,
    bytes: number,
    now: number,
  ): void {
    const key = ExactlyOnce.keyOf(request);
    const entry = this.taken.get(key);
    if (!entry || bytes > this.maxAnswerBytes) return;
    entry.answer = answer;
    entry.answerBytes = bytes;
    entry.answerUntil = Math.min(entry.until, now + this.answerMs);
    this.answered.set(key, entry);
    this.answersBytes += bytes;
    for (const [oldKey, old] of this.answered) {
      if (this.answersBytes <= this.maxAnswersBytes) break;
      this.dropAnswer(oldKey, old);
    }
  }

  private dropAnswer(key: string, entry: Taken): void {
    if (!this.answered.delete(key)) return;
    this.answersBytes -= entry.answerBytes;
    entry.answer = undefined;
    entry.answerBytes = 0;
  }

  /** Forgets invocations past their deadline; at most once a second, as the table can be large. */
  private prune(now: number): void {
    if (now - this.lastPrune < 1000) return;
    this.lastPrune = now;
    for (const [key, entry] of this.taken) {
      if (entry.until < now) {
        this.dropAnswer(key, entry);
        this.taken.delete(key);
      } else if (entry.answer && entry.answerUntil < now) this.dropAnswer(key, entry);
    }
  }
}

/** What to do with one request. */
export type RequestVerdict =
  /** Not for a function this session serves, or answering it would go outside the stack. */
  | { kind: "foreign"; reason: string }
  /** Past its deadline: a late delivery or a replayed capture; running it would serve nobody. */
  | { kind: "expired" }
  /** Addressed to another session of the stack: only that one may run it. */
  | { kind: "elsewhere" }
  /** Taken before: answer again (or acknowledge again while it runs); never run twice. */
  | { kind: "duplicate"; answer?: Message }
  /** This session takes nothing new (closing, taken over): the stub sends it to the session online. */
  | { kind: "redirect" }
  /** The environment named by the request's hash is unknown here: the stub resends with it. */
  | { kind: "need-environment" }
  | { kind: "run"; environment: Record<string, string> };

export interface RequestFacts {
  request: RequestMessage;
  now: number;
  sessionId: string;
  /** Whether this session serves the function. */
  serves: boolean;
  /** The topic a response to this request must go to: the stub's own, for its function and environment. */
  responseTopic: string;
  /** False while closing or after a takeover. */
  accepting: boolean;
  taken: Taken | undefined;
  /** The environment of the request's hash: sent with it, or remembered from before. */
  environment: Record<string, string> | undefined;
}

/** Classifies one request; the order of the checks is the rule. */
export function classifyRequest(facts: RequestFacts): RequestVerdict {
  const { request } = facts;
  if (!facts.serves) return { kind: "foreign", reason: `no served function "${request.functionId}"` };
  if (request.responseTopic !== facts.responseTopic) {
    return { kind: "foreign", reason: `unexpected response topic ${String(request.responseTopic)}` };
  }
  if (!(request.deadline > facts.now)) return { kind: "expired" };
  if (request.sessionId && request.sessionId !== facts.sessionId) return { kind: "elsewhere" };
  if (facts.taken) return { kind: "duplicate", answer: facts.taken.answer };
  if (!facts.accepting) return { kind: "redirect" };
  if (!facts.environment) return { kind: "need-environment" };
  return { kind: "run", environment: facts.environment };
}
