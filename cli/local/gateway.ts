import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { MAX_REQUEST_PAYLOAD_BYTES } from "../../protocol/limits";
import { httpApiPath, toHttpApiEvent } from "./events/http-api";
import { frontDoor, shortId, type HttpSource } from "./events/http-sources";
import { messageResponse } from "./events/http-request";
import { toRestApiEvent } from "./events/rest-api";
import { httpRequestOf, serveThroughFrontDoor, type HttpOutcome } from "./http-front";
import { readBoundedBody, send, sendJson } from "./http-io";
import { handleInvoke, INVOKE_PATH } from "./invoke-api";
import type { Invoker } from "./invoker";
import { selectRoute, type HttpApiRouteTarget } from "./triggers/http-api-routes";
import { UserError } from "../user-error";

/** One answered request, for the serve command's request log. */
export interface GatewayRequestRecord {
  /**
   * `invoke`: the Lambda Invoke API; `http`: a plain HTTP request mapped to a front door's event;
   * `aws`: a local AWS service's API (SQS); `control`: pulumi-live's own commands (fire a schedule).
   */
  kind: "invoke" | "http" | "aws" | "control";
  /** The function (or API, queue, schedule) addressed ("" when none). */
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

/** An HTTP API the program declares, served at `/{name}/...` with its routes. */
export interface LocalHttpApi {
  name: string;
  apiId: string;
  routes: HttpApiRouteTarget[];
}

/** A local AWS API on the gateway's root, spoken as AWS JSON 1.0 (`POST /` with `X-Amz-Target`). */
export interface LocalAwsService {
  /** The target prefix it answers, e.g. `AmazonSQS.`. */
  targetPrefix: string;
  handle(
    target: string,
    body: Buffer,
    res: ServerResponse,
  ): Promise<{ name: string; status: number; error?: string }>;
}

/** Requests under `/_pulumi-live/`: the CLI's own commands. */
export type ControlHandler = (
  method: string,
  path: string,
  res: ServerResponse,
) => Promise<{ name: string; status: number; error?: string }>;

/** Everything the gateway serves; set at start or later, once the program has been read. */
export interface GatewayRoutes {
  /** The functions served, by name: the Invoke API and `/{name}/...`. The gateway never closes them. */
  functions: Map<string, Invoker>;
  /** The front door `/{name}/...` imitates, per function. */
  httpSources?: Map<string, HttpSource>;
  /** The front door of functions without their own. @default "http-api" */
  defaultHttpSource?: HttpSource;
  /** HTTP APIs, by name. */
  apis?: Map<string, LocalHttpApi>;
  services?: LocalAwsService[];
  control?: ControlHandler;
}

export interface GatewayOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** What to serve; `setRoutes` may replace it. Until either, every request is a 503. */
  routes?: GatewayRoutes;
  /** Shorthand for `routes: { functions }`. */
  functions?: Map<string, Invoker>;
  /** Region used in ARNs of error messages. @default "us-east-1" */
  region?: string;
  onRequest?: (record: GatewayRequestRecord) => void;
}

export interface Gateway {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  setRoutes(routes: GatewayRoutes): void;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

/** Paths under this prefix are pulumi-live's own; no function or API may be named so. */
export const CONTROL_PREFIX = "/_pulumi-live/";

type Outcome = Omit<GatewayRequestRecord, "method" | "path" | "durationMs">;

/** Loopback names only, with or without a port. */
function localHost(host: string | undefined): boolean {
  if (!host) return true; // HTTP/1.0 clients may omit it; they cannot be a rebinding browser
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
  return name === "127.0.0.1" || name === "localhost" || name === "[::1]";
}

/**
 * Why a request comes from a web page of another site, or undefined when it does not. Browsers say where
 * a request comes from (`Sec-Fetch-Site`, and `Origin` on anything but a plain GET); curl and the AWS SDK
 * send neither. Without this, any web page open in a browser on this machine could run handlers with a
 * form or a fetch. Pages served from this machine (any port of a loopback name: a front end's dev server,
 * say) are let through: a local process can call the gateway with curl anyway.
 */
export function crossSite(headers: IncomingMessage["headers"]): string | undefined {
  const site = headers["sec-fetch-site"];
  if (site === "cross-site") return `Sec-Fetch-Site: ${site}`;
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  let host = "";
  try {
    const url = new URL(origin);
    if (url.protocol === "http:" || url.protocol === "https:") host = url.hostname;
  } catch {
    // "null" (a sandboxed page, a file) or anything else that is not a URL: not this machine's page
  }
  return host && localHost(host) ? undefined : `Origin: ${origin}`;
}

/**
 * The local mode's HTTP front door on 127.0.0.1: the Lambda Invoke API (so `@aws-sdk/client-lambda`
 * works with `endpoint` set to it), local AWS APIs (SQS), `/{function}/...` turned into the event of the
 * front door the function imitates, and `/{api}/...` routed as the program's HTTP API routes it.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { onRequest } = options;
  let routes: GatewayRoutes | undefined =
    options.routes ?? (options.functions ? { functions: options.functions } : undefined);
  const region = options.region ?? "us-east-1";
  const listeningPort = () => (server.address() as AddressInfo | null)?.port ?? 0;
  const server = createServer((req, res) => {
    const started = performance.now();
    const [path] = (req.url ?? "/").split("?");
    const record = (outcome: Outcome): void =>
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
    const foreign = crossSite(req.headers);
    if (foreign) {
      record({ kind: "http", name: "", status: 403, error: `cross-site request (${foreign})` });
      req.resume();
      sendJson(res, 403, {
        message: `Cross-site requests are not served (${foreign}): call the gateway from curl, an AWS SDK or a page of this machine.`,
      });
      return;
    }
    if (!routes) {
      record({ kind: "http", name: "", status: 503, error: "still starting" });
      req.resume();
      sendJson(res, 503, { message: "pulumi-live is still starting; call again in a moment." });
      return;
    }
    route(routes, req, res, path, record).catch((error: Error) => {
      record({ kind: "http", name: "", status: 500, error: error.message });
      if (!res.headersSent) sendJson(res, 500, { message: `pulumi-live gateway error: ${error.message}` });
      else res.destroy();
    });
  });

  async function route(
    served: GatewayRoutes,
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    record: (outcome: Outcome) => void,
  ): Promise<void> {
    const { functions } = served;
    const invoke = INVOKE_PATH.exec(path);
    if (invoke && req.method === "POST") {
      return handleInvoke(req, res, invoke[1], {
        functions,
        region,
        record: (outcome) => record({ kind: "invoke", ...outcome }),
      });
    }
    const target = req.headers["x-amz-target"];
    if (path === "/" && req.method === "POST" && typeof target === "string") {
      const service = served.services?.find((s) => target.startsWith(s.targetPrefix));
      const { body, tooLarge } = await readBoundedBody(req, MAX_REQUEST_PAYLOAD_BYTES);
      if (!service || tooLarge) {
        const message = tooLarge
          ? "Request body too large."
          : `No local AWS service answers ${target}. pulumi-live serves: ${served.services?.map((s) => s.targetPrefix + "*").join(", ") || "(none)"}.`;
        sendJson(res, 400, { __type: "UnknownOperationException", message });
        return record({ kind: "aws", name: "", status: 400, error: message });
      }
      return record({ kind: "aws", ...(await service.handle(target, body, res)) });
    }
    if (path.startsWith(CONTROL_PREFIX)) {
      await readBoundedBody(req, 0);
      if (!served.control) {
        sendJson(res, 404, { message: "Nothing to control here." });
        return record({ kind: "control", name: "", status: 404 });
      }
      return record({ kind: "control", ...(await served.control(req.method ?? "GET", path, res)) });
    }
    if (path === "/" && (req.method === "GET" || req.method === "HEAD")) {
      await readBoundedBody(req, 0);
      sendJson(res, 200, index(url, served));
      return record({ kind: "http", name: "", status: 200 });
    }
    const rawName = path.split("/")[1] ?? "";
    const name = safeDecode(rawName);
    const rest = path.slice(1 + rawName.length);
    const invoker = functions.get(name);
    const api = invoker ? undefined : served.apis?.get(name);
    const { body, tooLarge } = await readBoundedBody(req, MAX_REQUEST_PAYLOAD_BYTES);
    if (!invoker && !api) {
      const known = [...functions.keys(), ...(served.apis?.keys() ?? [])];
      const message = `No function named "${name}" is served here. Call /<name>/<path> with one of: ${known.join(", ") || "(none)"}.`;
      sendJson(res, 404, { message, functions: [...functions.keys()] });
      return record({ kind: "http", name, status: 404, error: message });
    }
    if (tooLarge) {
      sendJson(res, 413, { message: "Request Entity Too Large" });
      return record({ kind: "http", name, status: 413, error: "request body over Lambda's 6 MB limit" });
    }
    if (invoker) {
      const door = frontDoor(served.httpSources?.get(name) ?? served.defaultHttpSource ?? "http-api");
      const request = httpRequestOf(req, rest, body, door.newRequestId(), listeningPort());
      const outcome = await serveThroughFrontDoor(res, request, door, door.toEvent(request), invoker);
      return record({ kind: "http", name, ...outcome });
    }
    return record({ kind: "http", name, ...(await serveApi(api!, served, req, res, rest, body)) });
  }

  /** A request to an HTTP API: its route selects the function; the integration's format the event. */
  async function serveApi(
    api: LocalHttpApi,
    served: GatewayRoutes,
    req: IncomingMessage,
    res: ServerResponse,
    rest: string,
    body: Buffer,
  ): Promise<HttpOutcome> {
    const door = frontDoor("http-api");
    const request = httpRequestOf(req, rest, body, shortId(), listeningPort());
    const headers = door.responseHeaders(request);
    const decoded = httpApiPath(rest);
    const match = decoded === undefined ? undefined : selectRoute(api.routes, request.method, decoded);
    const invoker = match && served.functions.get(match.functionName);
    if (!match || !invoker) {
      const answer =
        decoded === undefined ? messageResponse(400, "Bad Request") : messageResponse(404, "Not Found");
      send(res, answer.statusCode, { ...answer.headers, ...headers }, answer.body);
      return {
        status: answer.statusCode,
        error: decoded === undefined ? "path rejected" : "no route matches",
      };
    }
    const route = { routeKey: match.routeKey, pathParameters: match.pathParameters, apiId: api.apiId };
    const built =
      match.payloadFormat === "1.0"
        ? toRestApiEvent(request, {
            httpApi: true,
            apiId: api.apiId,
            resource: match.routeKey.replace(/^[A-Z]+ /, ""),
            pathParameters: Object.keys(match.pathParameters).length > 0 ? match.pathParameters : null,
          })
        : toHttpApiEvent(request, route);
    // Format 1.0 results are read as REST's, but failures stay an HTTP API's 500.
    const reader =
      match.payloadFormat === "1.0"
        ? { ...door, fromResult: (result: unknown) => frontDoor("rest-api").fromResult(result) }
        : door;
    return serveThroughFrontDoor(res, request, reader, built, invoker);
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
    setRoutes: (next) => (routes = next),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

function index(url: string, served: GatewayRoutes): unknown {
  return {
    service: "pulumi-live local gateway",
    functions: [...served.functions.keys()].map((name) => ({
      name,
      http: `${url}/${encodeURIComponent(name)}/`,
      httpSource: served.httpSources?.get(name) ?? served.defaultHttpSource ?? "http-api",
      invoke: `POST ${url}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`,
    })),
    apis: [...(served.apis?.values() ?? [])].map((api) => ({
      name: api.name,
      url: `${url}/${encodeURIComponent(api.name)}`,
      routes: api.routes.map((r) => `${r.routeKey} → ${r.functionName}`),
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
