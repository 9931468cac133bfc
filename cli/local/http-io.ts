import type { IncomingMessage, ServerResponse } from "node:http";
import { finished } from "node:stream";

/** A request body read with a bound: past `limit` bytes the rest is drained and only counted. */
export interface BoundedBody {
  /** The body; empty when it was too large. */
  body: Buffer;
  /** Bytes received in all. */
  size: number;
  tooLarge: boolean;
}

/**
 * Reads a request body without ever holding more than `limit` bytes of it. Read with its events: an async
 * iterator costs a promise and a read call per chunk, on the gateway's busiest thread.
 * Rejects when the request ends early (the client went away).
 */
export function readBoundedBody(req: IncomingMessage, limit: number): Promise<BoundedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    finished(req, { writable: false }, (error) => {
      if (error) return reject(error);
      const tooLarge = size > limit;
      resolve({ body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks, size), size, tooLarge });
    });
  });
}

/** Sends a JSON body with its length. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  send(res, status, { "content-type": "application/json", ...headers }, Buffer.from(JSON.stringify(body)));
}

/** Sends a complete response with its length. */
export function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | string[]>,
  body: Buffer,
): void {
  res.writeHead(status, { ...headers, "content-length": String(body.length) });
  res.end(body);
}
