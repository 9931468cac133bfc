import { Readable } from "node:stream";
import test from "ava";
import { runInvokeCommand } from "../../cli/commands/invoke";
import { startLocalServer, type LocalServer } from "../../cli/commands/serve-local";
import { RecordingReporter } from "../helpers/recorder";
import { tempProject, type TempProject } from "../runtime/temp-project";

const HANDLER = `export const handler = async (event: { name?: string; fail?: boolean }) => {
  console.log("hello from the handler");
  if (event.fail) throw new TypeError("asked to fail");
  return { greeting: \`hi \${event.name ?? "nobody"}\` };
};
`;

let project: TempProject;
let server: LocalServer;
test.before(async () => {
  project = await tempProject({ "src/greet.ts": HANDLER, "event.json": '{"name":"Ada"}' });
  server = await startLocalServer({
    functions: ["greet=src/greet.handler"],
    cwd: project.root,
    port: 0,
    watch: false,
    record: false,
    reporter: new RecordingReporter(),
  });
});
test.after.always(async () => {
  await server?.close();
  await project?.remove();
});

function io(out: string[]) {
  return {
    stdout: (s: string) => void out.push(s),
    stderr: (s: string) => void out.push(s),
    cwd: project.root,
    env: {},
  };
}

test("invoke --local sends the event file through the gateway and prints the result and log tail", async (t) => {
  const out: string[] = [];
  const code = await runInvokeCommand(
    ["greet", "--local", "--endpoint", server.gateway, "--event", "event.json"],
    io(out),
  );
  t.is(code, 0);
  const text = out.join("");
  const id = /^✓ greet (\S+) {2}200\n/.exec(text)?.[1] ?? "";
  t.regex(id, /^[0-9a-f-]{36}$/);
  const tail = tailOf(text)
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/, "TIME")
    .replace(/Duration: .*$/m, "Duration: …");
  t.is(text, `✓ greet ${id}  200\n{\n  "greeting": "hi Ada"\n}\nlog tail:\n${tailOf(text)}`);
  // The stub writes the handler's lines as Lambda does, between START and END.
  t.is(
    tail,
    `  │ START RequestId: ${id} Version: $LATEST\n` +
      `  │ TIME\t${id}\tINFO\thello from the handler\n` +
      `  │ END RequestId: ${id}\n` +
      `  │ REPORT RequestId: ${id}\tDuration: …\n`,
  );
});

/** The log tail part of the output (the local environment adds START/END/REPORT lines around it). */
function tailOf(text: string): string {
  return text.slice(text.indexOf("log tail:\n") + "log tail:\n".length);
}

test("invoke --event - reads standard input; --json for scripts; a failure exits 1", async (t) => {
  const out: string[] = [];
  const stdin = Readable.from([Buffer.from('{"fail": true}')]);
  const code = await runInvokeCommand(
    ["greet", "--local", "--endpoint", server.gateway, "--event", "-", "--json"],
    io(out),
    {
      stdin,
    },
  );
  t.is(code, 1);
  const document = JSON.parse(out.join(""));
  t.like(document, {
    ok: false,
    status: 200,
    functionError: "Unhandled",
    result: { errorType: "TypeError", errorMessage: "asked to fail" },
  });
  t.true((document.logs as string).includes("hello from the handler"));
});

test("invoke says what is wrong: unknown function, nothing listening, bad event", async (t) => {
  await t.throwsAsync(runInvokeCommand(["nope", "--local", "--endpoint", server.gateway], io([])), {
    message:
      /^No function "nope" at http:\/\/127\.0\.0\.1:\d+: pass the deployed function's name or ARN \(with --local: a --function name of serve\)\. Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope$/,
  });
  await t.throwsAsync(runInvokeCommand(["greet", "--local", "--endpoint", "http://127.0.0.1:1"], io([])), {
    message:
      "Nothing answers at http://127.0.0.1:1: start pulumi-live serve --local there, or pass --endpoint URL of its gateway.",
  });
  await project.write({ "bad.json": "{ not json" });
  await t.throwsAsync(runInvokeCommand(["greet", "--local", "--event", "bad.json"], io([])), {
    message: /^The event from bad\.json is not JSON \(.+\)\.$/,
  });
});
