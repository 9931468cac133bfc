/** A keep-alive HTTP client for the benchmarks: one connection per client, as a load generator keeps. */
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";

export interface Reply {
  status: number;
  body: Buffer;
}

export class KeepAliveClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  post(url: string, body: Buffer, headers: Record<string, string> = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: "POST",
          agent: this.agent,
          headers: { "Content-Type": "application/json", "Content-Length": body.length, ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Sequential round trips of one client: each one's time (ms). */
export async function sequential(url: string, body: Buffer, count: number): Promise<number[]> {
  const client = new KeepAliveClient();
  try {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      const reply = await client.post(url, body);
      times.push(performance.now() - t0);
      if (reply.status !== 200) throw new Error(`${url} answered ${reply.status}: ${reply.body.toString()}`);
    }
    return times;
  } finally {
    client.close();
  }
}

export interface LoadResult {
  /** Completed requests per second over the whole run. */
  rate: number;
  /** Rates of each full second of the run (steadiness). */
  windows: number[];
  done: number;
}

/**
 * `clients` concurrent keep-alive clients sending `total` requests in all; `every` is called after each
 * `sampleEvery` completions (it may be slow: the clients keep going meanwhile).
 */
export async function concurrent(
  url: string,
  body: Buffer,
  clients: number,
  total: number,
  sample?: { every: number; at: (done: number) => void },
): Promise<LoadResult> {
  const pool = Array.from({ length: clients }, () => new KeepAliveClient());
  let started = 0;
  let done = 0;
  const t0 = performance.now();
  const completions: number[] = [];
  try {
    await Promise.all(
      pool.map(async (client) => {
        while (started < total) {
          started++;
          const reply = await client.post(url, body);
          if (reply.status !== 200)
            throw new Error(`${url} answered ${reply.status}: ${reply.body.toString()}`);
          done++;
          completions.push(performance.now() - t0);
          if (sample && done % sample.every === 0) sample.at(done);
        }
      }),
    );
  } finally {
    for (const client of pool) client.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const windows: number[] = [];
  for (let s = 0; s + 1 <= seconds; s++) {
    windows.push(completions.filter((t) => t >= s * 1000 && t < (s + 1) * 1000).length);
  }
  return { rate: done / seconds, windows, done };
}
