import test from "ava";
import type { Invoker } from "../../cli/local/invoker";
import { LocalSchedules } from "../../cli/local/triggers/schedules";

function recorder(fail = false): Invoker & { events: any[] } {
  const events: any[] = [];
  return {
    events,
    invoke: async (payload, options) => {
      events.push(JSON.parse(payload.toString()));
      const body = fail ? { errorType: "Error", errorMessage: "boom", trace: [] } : null;
      return {
        payload: Buffer.from(JSON.stringify(body)),
        requestId: options.requestId!,
        durationMs: 1,
        ...(fail ? { functionError: "Unhandled" as const } : {}),
      };
    },
    close: async () => undefined,
  };
}

test("fire sends EventBridge's scheduled event (or the target's input) to each target of the rule", async (t) => {
  const cron = recorder();
  const other = recorder(true);
  const withInput = recorder();
  const now = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  const schedules = new LocalSchedules({
    region: "eu-west-1",
    account: "000000000000",
    now: () => now,
    targets: [
      {
        rule: "nightly",
        ruleArn: "arn:aws:events:eu-west-1:000000000000:rule/nightly",
        expression: "cron(0 2 * * ? *)",
        enabled: true,
        functionName: "cron",
        invoker: cron,
      },
      {
        rule: "nightly",
        ruleArn: "arn:aws:events:eu-west-1:000000000000:rule/nightly",
        expression: "cron(0 2 * * ? *)",
        enabled: true,
        functionName: "other",
        invoker: other,
      },
      {
        rule: "off",
        ruleArn: "arn:aws:events:eu-west-1:000000000000:rule/off",
        expression: "rate(1 hour)",
        enabled: false,
        functionName: "cron",
        invoker: withInput,
        input: '{"job":"cleanup"}',
      },
    ],
  });
  t.teardown(() => schedules.close());
  t.deepEqual(schedules.rules, ["nightly", "off"]);
  t.is(schedules.next("nightly")?.toISOString(), "2026-01-03T02:00:00.000Z");
  t.is(schedules.next("off"), undefined);
  const results = await schedules.fire("nightly");
  t.like(results, [
    { functionName: "cron", ok: true },
    { functionName: "other", ok: false, error: "Error: boom" },
  ]);
  const { id, ...event } = cron.events[0];
  t.regex(id, /^[0-9a-f-]{36}$/);
  t.deepEqual(event, {
    version: "0",
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account: "000000000000",
    time: "2026-01-02T03:04:05Z",
    region: "eu-west-1",
    resources: ["arn:aws:events:eu-west-1:000000000000:rule/nightly"],
    detail: {},
  });
  await schedules.fire("off");
  t.deepEqual(withInput.events, [{ job: "cleanup" }]);
  t.is(await schedules.fire("nope"), undefined);
});
