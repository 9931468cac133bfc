import test from "ava";
import { nextFire, parseSchedule } from "../../cli/local/triggers/schedule-expression";

const at = (iso: string) => new Date(iso);
const next = (expression: string, after: string, start?: string) =>
  nextFire(parseSchedule(expression), at(after), start ? at(start) : undefined)?.toISOString();

test("rate(...) fires every period from the start", (t) => {
  t.is(next("rate(5 minutes)", "2026-01-01T00:00:00Z"), "2026-01-01T00:05:00.000Z");
  t.is(next("rate(5 minutes)", "2026-01-01T00:07:00Z", "2026-01-01T00:00:00Z"), "2026-01-01T00:10:00.000Z");
  t.is(next("rate(1 hour)", "2026-01-01T00:00:00Z"), "2026-01-01T01:00:00.000Z");
  t.is(next("rate(2 days)", "2026-01-01T00:00:00Z"), "2026-01-03T00:00:00.000Z");
});

test("cron(...) in UTC: lists, ranges, steps, names, L, W and #", (t) => {
  const table: Array<[string, string, string]> = [
    ["cron(0 10 * * ? *)", "2026-01-01T09:59:00Z", "2026-01-01T10:00:00.000Z"],
    ["cron(0 10 * * ? *)", "2026-01-01T10:00:00Z", "2026-01-02T10:00:00.000Z"],
    ["cron(15 12 * * ? *)", "2026-03-01T12:15:30Z", "2026-03-02T12:15:00.000Z"],
    ["cron(0/15 * * * ? *)", "2026-01-01T00:01:00Z", "2026-01-01T00:15:00.000Z"],
    ["cron(0 18 ? * MON-FRI *)", "2026-01-02T19:00:00Z", "2026-01-05T18:00:00.000Z"], // Fri → Mon
    ["cron(0 8 1 * ? *)", "2026-01-15T00:00:00Z", "2026-02-01T08:00:00.000Z"],
    ["cron(0 0 L * ? *)", "2026-02-01T00:00:00Z", "2026-02-28T00:00:00.000Z"],
    ["cron(0 0 ? * 6L *)", "2026-01-01T00:00:00Z", "2026-01-30T00:00:00.000Z"], // last Friday
    ["cron(0 0 ? * 3#2 *)", "2026-01-01T00:00:00Z", "2026-01-13T00:00:00.000Z"], // 2nd Tuesday
    ["cron(0 0 15W * ? *)", "2026-08-01T00:00:00Z", "2026-08-14T00:00:00.000Z"], // 15 Aug 2026 is a Saturday
    ["cron(0 0 1 JAN,JUL ? 2027)", "2026-03-01T00:00:00Z", "2027-01-01T00:00:00.000Z"],
  ];
  for (const [expression, after, expected] of table) t.is(next(expression, after), expected, expression);
  t.is(next("cron(0 0 1 1 ? 2020)", "2026-01-01T00:00:00Z"), undefined);
});

test("bad expressions say what is wrong", (t) => {
  const bad: Array<[string, RegExp]> = [
    ["rate(1 minutes)", /rate\(1 minute\)/],
    ["rate(5 minute)", /rate\(N minutes\)/],
    ["rate(0 minutes)", /rate\(1 minute\)/],
    ["every 5 minutes", /expected rate\(\.\.\.\) or cron\(\.\.\.\)/],
    ["cron(0 10 * * *)", /6 fields/],
    ["cron(0 10 * * * *)", /"\?"/],
    ["cron(61 10 * * ? *)", /61 is not in 0-59/],
  ];
  for (const [expression, message] of bad) t.throws(() => parseSchedule(expression), { message }, expression);
});
