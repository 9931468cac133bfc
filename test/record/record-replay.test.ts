import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import test from "ava";
import { startLocalServer } from "../../cli/commands/serve-local";
import { runReplayCommand } from "../../cli/commands/replay";
import type { InvocationRecord } from "../../cli/record/invocation-record";
import { InvocationRecorder } from "../../cli/record/recorder";
import { RecordingReporter } from "../helpers/recorder";
import { tempProject, type TempProject } from "../runtime/temp-project";

const handler = (version: string) => `export const handler = async (event: { n: number }) => {
  console.log("got", event.n);
  if (event.n === 3) throw new RangeError("three is too many");
  return { n: event.n, version: "${version}", hasPassword: Boolean(process.env.DB_PASSWORD), key: process.env.AWS_ACCESS_KEY_ID ?? null, plain: process.env.PLAIN };
};
`;
const SECRETS = { DB_PASSWORD: "hunter2", STRIPE_API_KEY: "sk_live_123", GITHUB_TOKEN: "ghp_456" };

let project: TempProject;
const requestIds: string[] = [];
let files: string[] = [];
const dir = () => project.path(".pulumi-live/log/rec");

test.before(async () => {
  project = await tempProject({ "src/rec.ts": handler("v1") });
  const server = await startLocalServer({
    functions: ["rec=src/rec.handler"],
    cwd: project.root,
    port: 0,
    watch: false,
    record: 2,
    env: [...Object.entries(SECRETS).map(([k, v]) => `${k}=${v}`), "PLAIN=visible"],
    reporter: new RecordingReporter(),
  });
  try {
    for (const n of [1, 2, 3]) {
      const response = await fetch(`${server.gateway}/2015-03-31/functions/rec/invocations`, {
        method: "POST",
        body: JSON.stringify({ n }),
      });
      requestIds.push(response.headers.get("x-amzn-requestid") ?? "");
      await response.arrayBuffer();
    }
  } finally {
    // Closing waits for the invocations in flight and for their records.
    await server.close();
  }
  files = (await readdir(dir())).sort();
});
test.after.always(() => project?.remove());

const read = async (file: string) =>
  JSON.parse(await readFile(path.join(dir(), file), "utf8")) as InvocationRecord;

test.serial("every invocation is recorded, only the newest N per function are kept", (t) => {
  t.is(files.length, 2);
  t.true(files[0].endsWith(`_${requestIds[1]}.json`));
  t.true(files[1].endsWith(`_${requestIds[2]}.json`));
  t.regex(files[0], /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z_/);
});

test.serial(
  "a record holds the event, context, redacted environment, logs, outcome and timings",
  async (t) => {
    const record = await read(files[0]);
    const text = await readFile(path.join(dir(), files[0]), "utf8");
    t.like(record, {
      version: 1,
      function: "rec",
      handler: { file: "src/rec.ts", exportName: "handler" },
      requestId: requestIds[1],
      event: { n: 2 },
      context: { awsRequestId: requestIds[1], functionName: "rec" },
      logs: "got 2\n",
      coldStart: false,
      outcome: { ok: true, result: { n: 2, version: "v1", hasPassword: true, plain: "visible" } },
    });
    t.is(record.environment.DB_PASSWORD, "[redacted]");
    t.is(record.environment.STRIPE_API_KEY, "[redacted]");
    t.is(record.environment.GITHUB_TOKEN, "[redacted]");
    t.is(record.environment.AWS_SECRET_ACCESS_KEY, "[redacted]");
    t.is(record.environment.AWS_SESSION_TOKEN, "[redacted]");
    t.is(record.environment.PLAIN, "visible");
    t.is(record.environment.AWS_REGION, "us-east-1");
    t.deepEqual(
      record.redacted,
      Object.keys(record.environment)
        .filter((name) => /key|secret|token|passw(or)?d|pwd/i.test(name))
        .sort(),
    );
    t.true(record.redacted.includes("DB_PASSWORD") && record.redacted.includes("AWS_ACCESS_KEY_ID"));
    for (const secret of Object.values(SECRETS)) t.false(text.includes(secret), secret);
    const { received, build, run, returned } = record.timings;
    t.true(received <= returned && build >= 0 && run > 0 && run <= returned - received + 1);
    t.true(record.deadline > received);
  },
);

test.serial("records are readable by their owner only", async (t) => {
  // Windows has no POSIX modes: nothing to check there.
  if (process.platform === "win32") return t.pass();
  const mode = async (file: string) => ((await stat(file)).mode & 0o777).toString(8);
  t.deepEqual(await Promise.all(files.map((file) => mode(path.join(dir(), file)))), ["600", "600"]);
  t.is(await mode(dir()), "700");
  t.is(await mode(project.path(".pulumi-live/log")), "700");
});

test.serial("a failed invocation records its error", async (t) => {
  const record = await read(files[1]);
  t.like(record, {
    event: { n: 3 },
    outcome: { ok: false, error: { errorType: "RangeError", errorMessage: "three is too many" } },
  });
});

const io = (out: string[]) => ({
  stdout: (s: string) => void out.push(s),
  stderr: (s: string) => void out.push(s),
  cwd: project.root,
  env: { PATH: process.env.PATH },
});

test.serial("replay runs the record against the current source and shows both results", async (t) => {
  await project.write({ "src/rec.ts": handler("v2") });
  const out: string[] = [];
  const credentials = async () => ({
    accessKeyId: "AKIAREPLAY00001234",
    secretAccessKey: "s",
    sessionToken: "t",
  });
  const code = await runReplayCommand([requestIds[1].slice(0, 8)], io(out), { credentials });
  t.is(code, 0);
  const text = out
    .join("")
    .replace(/\d+(?:\.\d)? ms( {2,})?/g, (m, spaces: string) => (spaces ? "N ms".padEnd(m.length) : "N ms"))
    .replace(/recorded \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/, "recorded T UTC");
  const recordedKey = (await read(files[0])).outcome as { result: { key: string } };
  const left = [
    "recorded  ✓ N ms",
    "{",
    '  "n": 2,',
    '  "version": "v1",',
    '  "hasPassword": true,',
    `  "key": "${recordedKey.result.key}",`,
    '  "plain": "visible"',
    "}",
  ];
  const width = Math.max(...left.map((line) => line.length)) + 4;
  const pad = (s: string) => s.padEnd(width);
  t.is(
    text,
    [
      `replay of rec ${requestIds[1]} recorded T UTC`,
      "  handler      src/rec.ts export handler",
      `  record       .pulumi-live/log/rec/${files[0]}`,
      "  credentials  from your AWS credential chain (AKIA…1234)",
      "  unset        DB_PASSWORD, GITHUB_TOKEN, STRIPE_API_KEY: redacted in the record; export them in this shell to give the handler values",
      "",
      `  ${pad("recorded  ✓ N ms")}now  ✓ N ms (cold)`,
      `  ${pad("{")}{`,
      `  ${pad('  "n": 2,')}  "n": 2,`,
      `  ${pad('  "version": "v1",')}  "version": "v2",`,
      `  ${pad('  "hasPassword": true,')}  "hasPassword": false,`,
      `  ${pad(left[5])}  "key": "AKIAREPLAY00001234",`,
      `  ${pad('  "plain": "visible"')}  "plain": "visible"`,
      `  ${pad("}")}}`,
      "",
      "the result differs from the recorded one",
      "logs now:",
      "  │ got 2",
      "",
    ].join("\n"),
  );
});

test.serial("replay --json, without credentials, runs without them and says so", async (t) => {
  const out: string[] = [];
  const file = path.join(".pulumi-live/log/rec", files[1]);
  const code = await runReplayCommand([file, "--json"], io(out), { credentials: async () => undefined });
  t.is(code, 1);
  const document = JSON.parse(out.join(""));
  t.like(document, {
    type: "replay",
    function: "rec",
    requestId: requestIds[2],
    file,
    credentials: "none",
    missing: ["DB_PASSWORD", "GITHUB_TOKEN", "STRIPE_API_KEY"],
    recorded: { ok: false, error: { errorType: "RangeError", errorMessage: "three is too many" } },
    replayed: {
      ok: false,
      error: { errorType: "RangeError", errorMessage: "three is too many" },
      logs: "got 3\n",
    },
    same: true,
  });
});

test.serial("replay of an unknown request id says where it looked", async (t) => {
  await t.throwsAsync(runReplayCommand(["nope"], io([])), {
    message: `No record "nope" under ${path.join(project.root, ".pulumi-live/log")}. Pass a request id from the serve output or a record file.`,
  });
});

test.serial(
  "an HTTP event is recorded with its credentials redacted, and replays with the marker",
  async (t) => {
    await project.write({
      "src/http.ts":
        "export const handler = async (event: any) => ({ auth: event.headers.authorization, cookies: event.cookies, accept: event.headers.accept });\n",
    });
    const recorder = new InvocationRecorder({ root: project.root });
    const event = {
      version: "2.0",
      rawPath: "/",
      cookies: ["session=abc123"],
      headers: { accept: "text/plain", authorization: "Bearer top-secret" },
    };
    const received = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    recorder.record({
      name: "http",
      entry: project.path("src/http.ts"),
      exportName: "handler",
      requestId: "http-req-1",
      envId: "env-http",
      event,
      context: { ...(await read(files[0])).context, awsRequestId: "http-req-1" },
      deadline: received + 3000,
      environment: {},
      logs: "",
      outcome: { ok: true, result: { accept: "text/plain" } },
      coldStart: true,
      timings: { received, build: 0, run: 1, returned: received + 2 },
    });
    await recorder.flush();
    const file = ".pulumi-live/log/http/2026-01-02T03-04-05-678Z_http-req-1.json";
    const text = await readFile(project.path(file), "utf8");
    t.false(text.includes("top-secret") || text.includes("abc123"));
    const record = JSON.parse(text) as InvocationRecord;
    t.deepEqual(record.event, {
      version: "2.0",
      rawPath: "/",
      cookies: ["[redacted]"],
      headers: { accept: "text/plain", authorization: "[redacted]" },
    });
    t.deepEqual(record.redactedEvent, ["headers.authorization", "cookies"]);

    const out: string[] = [];
    t.is(await runReplayCommand([file], io(out), { credentials: async () => undefined }), 0);
    t.is(
      out.join("").split("\n")[4],
      '  redacted     headers.authorization, cookies in the event: replayed as "[redacted]"',
    );
    const json: string[] = [];
    t.is(await runReplayCommand([file, "--json"], io(json), { credentials: async () => undefined }), 0);
    t.like(JSON.parse(json.join("")), {
      replayed: { ok: true, result: { auth: "[redacted]", cookies: ["[redacted]"], accept: "text/plain" } },
    });
  },
);
