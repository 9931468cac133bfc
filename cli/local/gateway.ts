import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { MAX_REQUEST_PAYLOAD_BYTES } from "../../protocol/limits";
import { fromHttpApiResult, internalServerError, toHttpApiEvent, type HttpResponse } from "./apigw";
import { readBoundedBody, send, sendJson } from "./http-io";
import { handleInvoke, INVOKE_PATH } from "./invoke-api";
import type { Invoker } from "./invoker";
import { UserError } from "../user-error";

/** One answered request, for the serve command's request log. */
export interface GatewayRequestRecord {
  /** `invoke`: the Lambda Invoke API; `http`: a plain HTTP request mapped to an API Gateway event. */
  kind: "invoke" | "http";
  /** The function addressed ("" when none). */
  name: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  /** The Lambda request id, when an invocation ran. */
  requestId?: string;
  functionError?: string;
  /** What went wrong, when the request failed before or around the invocation. */
  error?: string;
}

export interface GatewayOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** The functions served, by name. The gateway never closes them. */
  functions: Map<string, Invoker>;
  /** Region used in ARNs of error messages. @default "us-east-1" */
  region?: string;
  onRequest?: (record: GatewayRequestRecord) => void;
}

export interface Gateway {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * The local mode's HTTP front door on 127.0.0.1: the Lambda Invoke API (so `@aws-sdk/client-lambda`
 * works with `endpoint` set to it), and `/{name}/...` turned into API Gateway HTTP API events.
 */
/** Loopback names only, with or without a port. */
function localHost(host: string | undefined): boolean {
  if (!host) return true; // HTTP/1.0 clients may omit it; they cannot be a rebinding browser
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
  return name === "127.0.0.1" || name === "localhost" || name === "[::1]";
}

/**
 * Why a request comes from another site, or undefined when it does not. Browsers say where a request comes
 * from (`Sec-Fetch-Site`, and `Origin` on anything but a plain GET); curl and the AWS SDK send neither.
 * Without this, any web page open in a browser on this machine could run handlers with a form or fetch.
 */
export function crossSite(headers: IncomingMessage["headers"], port: number): string | undefined {
  const site = headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") return `Sec-Fetch-Site: ${site}`;
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  const own = ["127.0.0.1", "localhost", "[::1]"].map((host) => `http://${host}:${port}`);
  return own.includes(origin) ? undefined : `Origin: ${origin}`;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { functions, onRequest } = options;
  const region = options.region ?? "us-east-1";
  const listeningPort = () => (server.address() as AddressInfo | null)?.port ?? 0;
  const server = createServer((req, res) => {
    const started = performance.now();
    const [path] = (req.url ?? "/").split("?");
    const record = (outcome: Omit<GatewayRequestRecord, "method" | "path" | "durationMs">): void =>
      onRequest?.({ ...outcome, method: req.method ?? "GET", path, durationMs: performance.now() - started });
    if (!localHost(req.headers.host)) {
      // A web page could reach 127.0.0.1 through DNS rebinding (a name of its own resolving here):
      // only requests addressed to this machine's loopback names are served.
      record({ kind: "http", name: "", status: 403 });
      sendJson(res, 403, {
        message: `Host "${req.headers.host ?? ""}" is not served: call http://127.0.0.1:${listeningPort()}/ or http://localhost:${listeningPort()}/.`,
      });
      return;
    }
    const foreign = crossSite(req.headers, listeningPort());
    if (foreign) {
      record({ kind: "http", name: "", status: 403, error: `cross-site request (${foreign})` });
      sendJson(res, 403, {
        message: `Cross-site requests are not served (${foreign}): call the gateway from curl, an AWS SDK or a page it serves.`,
      });
      return;
    }
    route(req, res, path, record).catch((error: Error) => {
      record({ kind: "http", name: "", status: 500, error: error.message });
      if (!res.headersSent) sendJson(res, 500, { message: `pulumi-live gateway error: ${error.message}` });
      else res.destroy();
    });
  });

  async function route(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    record: (outcome: Omit<GatewayRequestRecord, "method" | "path" | "durationMs">) => void,
  ): Promise<void> {
    const invoke = INVOKE_PATH.exec(path);
    if (invoke && req.method === "POST") {
      return handleInvoke(req, res, invoke[1], {
        functions,
        region,
        record: (outcome) => record({ kind: "invoke", ...outcome }),
      });
    }
    if (path === "/" && (req.method === "GET" || req.method === "HEAD")) {
      await readBoundedBody(req, 0);
      sendJson(res, 200, index(url, functions));
      return record({ kind: "http", name: "", status: 200 });
    }
    const rawName = path.split("/")[1] ?? "";
    const name = safeDecode(rawName);
    const invoker = functions.get(name);
    const { body, tooLarge } = await readBoundedBody(req, MAX_REQUEST_PAYLOAD_BYTES);
    if (!invoker) {
      const served = [...functions.keys()];
      const message = `No function named "${name}" is served here. Call /<name>/<path> with one of: ${served.join(", ") || "(none)"}.`;
      sendJson(res, 404, { message, functions: served });
      return record({ kind: "http", name, status: 404, error: message });
    }
    if (tooLarge) {
      sendJson(res, 413, { message: "Request Entity Too Large" });
      return record({ kind: "http", name, status: 413, error: "request body over Lambda's 6 MB limit" });
    }
    const query = req.url?.includes("?") ? req.url.slice(req.url.indexOf("?") + 1) : "";
    const apiRequestId = randomBytes(10).toString("base64");
    const event = toHttpApiEvent({
      method: req.method ?? "GET",
      path: path.slice(1 + rawName.length),
      rawQueryString: query,
      rawHeaders: req.rawHeaders,
      body,
      sourceIp: (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, ""),
      protocol: `HTTP/${req.httpVersion}`,
      requestId: apiRequestId,
      time: new Date(),
    });
    const result = await invoker.invoke(Buffer.from(JSON.stringify(event)), { tail: false });
    const response = result.functionError ? internalServerError() : parseResult(result.payload);
    send(res, response.statusCode, { ...response.headers, "apigw-requestid": apiRequestId }, response.body);
    record({
      kind: "http",
      name,
      status: response.statusCode,
      requestId: result.requestId,
      functionError: result.functionError,
    });
  }

  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error): void =>
      reject(
        new UserError(
          `Could not start the local gateway on 127.0.0.1:${options.port ?? 0}: ${error.message}. ` +
            `Pick another port with --port (0 takes any free one), or stop what uses it.`,
        ),
      );
    server.once("error", failed);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", failed);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

/** A result that is not JSON is a malformed integration response: API Gateway answers 500. */
function parseResult(payload: Buffer): HttpResponse {
  try {
    return fromHttpApiResult(JSON.parse(payload.toString("utf8")));
  } catch {
    return internalServerError();
  }
}

function index(url: string, functions: Map<string, Invoker>): unknown {
  return {
    service: "pulumi-live local gateway",
    functions: [...functions.keys()].map((name) => ({
      name,
      http: `${url}/${encodeURIComponent(name)}/`,
      invoke: `POST ${url}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`,
    })),
    sdk: `new LambdaClient({ endpoint: "${url}", region: "us-east-1" })`,
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
