import test from "ava";
import { formatStatus, type StackStatus } from "../../cli/commands/status";

const base: StackStatus = {
  project: "pulumi-live-demo",
  stack: "dev",
  endpoint: "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com",
  region: "eu-west-1",
  functions: [
    {
      name: "api",
      functionId: "api",
      handler: "examples/handlers/api.handler",
      live: true,
      functionName: "api-fn",
      sourceFound: true,
    },
    {
      name: "cron",
      functionId: "cron",
      handler: "examples/handlers/cron.handler",
      live: false,
      functionName: "cron-fn",
      sourceFound: false,
    },
  ],
  session: {
    state: "online",
    sessionId: "abc123",
    host: "laptop",
    pid: 42,
    startedAt: 0,
    functions: ["api"],
  },
};

test("status for people: the session, whose, and each function", (t) => {
  t.is(
    formatStatus(base, 5 * 60_000),
    [
      "stack     pulumi-live-demo/dev",
      "endpoint  a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com (eu-west-1)",
      "session   online: abc123 on laptop, pid 42, for 5 min",
      "functions",
      "  api   examples/handlers/api.handler  live, served",
      "  cron  examples/handlers/cron.handler  not live  (source missing here)",
      "",
    ].join("\n"),
  );
  t.is(
    formatStatus({ ...base, session: { state: "offline" } }).split("\n")[2],
    "session   none online: live functions fail fast or fall back. Start one: pulumi-live serve",
  );
});
