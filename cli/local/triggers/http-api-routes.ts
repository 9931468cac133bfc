/**
 * Route selection of an API Gateway HTTP API, as documented at
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html: a route
 * key is `METHOD /path` (`ANY` for every method) with `{name}` variables for one segment and a final
 * `{name+}` that takes the rest; the most specific route wins (literal over variable, variable over
 * greedy, a method over `ANY`), then `$default`; no match is a 404 `{"message":"Not Found"}`. Matching
 * runs on the path the HTTP API decoded. Pure functions.
 */

/** One route as the program declares it, with the function its integration invokes. */
export interface HttpApiRouteTarget {
  routeKey: string;
  /** The local function's name. */
  functionName: string;
  /** The integration's `payloadFormatVersion`. */
  payloadFormat: "1.0" | "2.0";
}

export interface RouteMatch extends HttpApiRouteTarget {
  pathParameters: Record<string, string>;
}

type Segment = { literal: string } | { variable: string } | { greedy: string };

interface ParsedRoute {
  method: string;
  segments: Segment[];
}

/** `GET /items/{id}` → its method and segments; undefined for `$default` or a key that is not a route. */
export function parseRouteKey(key: string): ParsedRoute | undefined {
  const match = /^([A-Z]+) (\/.*)$/.exec(key.trim());
  if (!match) return undefined;
  const parts = match[2] === "/" ? [] : match[2].slice(1).split("/");
  const segments = parts.map((part, i): Segment => {
    const variable = /^\{([^{}+]+)(\+?)\}$/.exec(part);
    if (!variable) return { literal: part };
    return variable[2] === "+" && i === parts.length - 1
      ? { greedy: variable[1] }
      : { variable: variable[1] };
  });
  return { method: match[1], segments };
}

/** A rank for each way a route can match; lower is more specific. */
function specificity(route: ParsedRoute): number[] {
  const greedy = route.segments.some((s) => "greedy" in s) ? 1 : 0;
  const variables = route.segments.filter((s) => "variable" in s).length;
  return [greedy, -route.segments.length, variables, route.method === "ANY" ? 1 : 0];
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function matchOne(route: ParsedRoute, method: string, parts: string[]): Record<string, string> | undefined {
  if (route.method !== "ANY" && route.method !== method) return undefined;
  const params = new Map<string, string>();
  for (let i = 0; i < route.segments.length; i++) {
    const segment = route.segments[i];
    if ("greedy" in segment) {
      const rest = parts.slice(i);
      if (rest.length === 0 || rest.join("/") === "") return undefined;
      params.set(segment.greedy, rest.join("/"));
      return Object.fromEntries(params);
    }
    if (i >= parts.length) return undefined;
    if ("literal" in segment) {
      if (segment.literal !== parts[i]) return undefined;
    } else {
      if (parts[i] === "") return undefined;
      params.set(segment.variable, parts[i]);
    }
  }
  return parts.length === route.segments.length ? Object.fromEntries(params) : undefined;
}

/** The route an HTTP API selects for `method` and the decoded `path`, or undefined (a 404). */
export function selectRoute(
  routes: HttpApiRouteTarget[],
  method: string,
  path: string,
): RouteMatch | undefined {
  const parts = path === "/" || path === "" ? [] : path.replace(/^\//, "").split("/");
  let best: { match: RouteMatch; rank: number[] } | undefined;
  for (const target of routes) {
    const parsed = parseRouteKey(target.routeKey);
    if (!parsed) continue;
    const pathParameters = matchOne(parsed, method.toUpperCase(), parts);
    if (!pathParameters) continue;
    const rank = specificity(parsed);
    if (!best || compare(rank, best.rank) < 0) best = { match: { ...target, pathParameters }, rank };
  }
  if (best) return best.match;
  const fallback = routes.find((r) => r.routeKey === "$default");
  return fallback && { ...fallback, pathParameters: {} };
}
