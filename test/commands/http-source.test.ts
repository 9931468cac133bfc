import test from "ava";
import { startLocalServer } from "../../cli/commands/serve-local";
import { UserError } from "../../cli/user-error";
import { RecordingReporter } from "../helpers/recorder";
import { tempProject } from "../runtime/temp-project";

const ECHO = `export const handler = async (event: any) => ({
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ path: event.rawPath ?? event.path, query: event.queryStringParameters, elb: !!event.requestContext?.elb }),
});
`;

test("--http-source NAME=KIND makes that function's HTTP requests imitate the front door, end to end", async (t) => {
  const project = await tempProject({ "echo.ts": ECHO });
  t.teardown(() => project.remove());
  const server = await startLocalServer({
    functions: ["alb=echo.handler", "api=echo.handler"],
    httpSource: ["alb=alb"],
    cwd: project.root,
    port: 0,
    watch: false,
    record: false,
    reporter: new RecordingReporter(),
  });
  t.teardown(() => server.close());
  const alb = await fetch(`${server.gateway}/alb/a%20b?x=%2B`);
  t.deepEqual(await alb.json(), { path: "/a%20b", query: { x: "%2B" }, elb: true });
  const api = await fetch(`${server.gateway}/api/a%20b?x=%2B`);
  t.deepEqual(await api.json(), { path: "/a b", query: { x: "+" }, elb: false });
});

test("--http-source naming a function that is not served is refused", async (t) => {
  const project = await tempProject({ "echo.ts": ECHO });
  t.teardown(() => project.remove());
  await t.throwsAsync(
    startLocalServer({
      functions: ["api=echo.handler"],
      httpSource: ["apj=rest-api"],
      cwd: project.root,
      port: 0,
      watch: false,
      record: false,
      reporter: new RecordingReporter(),
    }),
    { instanceOf: UserError, message: "--http-source names apj, which is not served here. Served: api." },
  );
});
