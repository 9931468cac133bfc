/**
 * An HTTP caller of a function nobody serves (anyone on the internet, behind a function URL or an API)
 * learns that and nothing more: not the stack, not the stub's variables, not the IoT endpoint. The
 * details go to the function's log, where its owner looks.
 */
import test from "ava";
import { generateKey } from "../../protocol";
import type { StubConfig } from "../../stub/config";
import { PUBLIC_UNAVAILABLE_MESSAGE } from "../../stub/http-event";
import { createRelay } from "../../stub/relay";
import { lambdaContext, startBroker } from "./harness";

const EVENTS = {
  "function URL / HTTP API": { version: "2.0", rawPath: "/", requestContext: { http: { method: "GET" } } },
  "REST API": { httpMethod: "GET", path: "/", requestContext: { stage: "prod" } },
  ALB: { httpMethod: "GET", path: "/", requestContext: { elb: { targetGroupArn: "arn:tg" } } },
};

test.serial(
  "a 503 to an HTTP caller says only that the function is not served; the log has the details",
  async (t) => {
    const broker = await startBroker();
    t.teardown(() => broker.close());
    const config: StubConfig = {
      prefix: "pulumi-live/secret-project/secret-stack",
      functionId: "orders-api",
      key: generateKey(),
      clientPrefix: "pulumi-live-abc-",
      stack: "secret-project/secret-stack",
      broker: { kind: "url", url: broker.url },
      ackTimeoutMs: 2000,
    };
    const relay = createRelay(config, { env: { AWS_REGION: "eu-west-1" }, presenceGraceMs: 50 });
    t.teardown(() => relay.close());
    const logged: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(args.map(String).join(" "));
    t.teardown(() => (console.error = original));

    for (const [name, event] of Object.entries(EVENTS)) {
      const response = (await relay.handle(event, lambdaContext(`public-${name}`))) as {
        statusCode: number;
        body: string;
      };
      t.is(response.statusCode, 503, name);
      t.deepEqual(JSON.parse(response.body), { message: PUBLIC_UNAVAILABLE_MESSAGE }, name);
      for (const secret of [
        "secret-stack",
        "secret-project",
        "PULUMI_LIVE",
        "orders-api",
        "pulumi-live serve",
      ]) {
        t.false(response.body.includes(secret), `${name}: the body names ${secret}`);
      }
    }
    t.is(logged.length, 3);
    t.true(
      logged.every((line) =>
        line.startsWith(
          '[pulumi-live] PulumiLive.NoSession: No pulumi-live session is serving stack "secret-project/secret-stack"',
        ),
      ),
      logged.join("\n"),
    );
  },
);
