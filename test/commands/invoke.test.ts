import { rm } from "node:fs/promises";
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

test.serial(
  "invoke takes the LiveFunction's name: the project's stack names the deployed function",
  async (t) => {
    await project.write({ "Pulumi.yaml": "name: greet\nruntime: nodejs\n" });
    t.teardown(() => rm(project.path("Pulumi.yaml"), { force: true }));
    // AWS's Lambda API is the local gateway here, which serves the deployed name "greet".
    const saved = { ...process.env };
    t.teardown(() => {
      for (const name of ["AWS_ENDPOINT_URL_LAMBDA", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_LAMBDA: server.gateway,
      AWS_ACCESS_KEY_ID: "AKIDINVOKE",
      AWS_SECRET_ACCESS_KEY: "invoke",
    });
    const stacks: unknown[] = [];
    const readStack = async (options: unknown) => {
      stacks.push(options);
      const fn = {
        name: "api",
        functionId: "api",
        functionName: "greet",
        functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:greet",
        handler: "src/greet.handler",
        runtime: "nodejs22.x",
        live: true,
      };
      return { root: project.root, project: "greet", stack: "dev", functions: [fn] };
    };
    const out: string[] = [];
    const code = await runInvokeCommand(["api", "--event", "event.json", "--stack", "dev"], io(out), {
      readStack,
    });
    t.is(code, 0);
    t.regex(out.join(""), /^✓ api \(greet\) [0-9a-f-]{36} {2}200\n\{\n {2}"greeting": "hi Ada"\n\}\n/);
    t.like(stacks, [{ cwd: project.root, stack: "dev" }]);
  },
);
