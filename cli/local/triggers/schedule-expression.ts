/**
 * EventBridge schedule expressions, as documented at
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html:
 * `rate(N minute|minutes|hour|hours|day|days)` (singular for 1) and
 * `cron(minutes hours day-of-month month day-of-week year)` in UTC, with `, - * /` everywhere, `?` in
 * exactly one of the day fields, `L` and `W` in day-of-month, `L` and `#` in day-of-week (1 = SUN), and
 * month and weekday names. Pure functions.
 */

export type Schedule = { kind: "rate"; everyMs: number } | { kind: "cron"; fields: CronFields };

interface CronFields {
  minutes: Set<number>;
  hours: Set<number>;
  /** Day-of-month spec: values, or `L`/`LW`/`nW`; undefined when `?`. */
  dom?: { values: Set<number>; last: boolean; lastWeekday: boolean; nearestWeekday?: number };
  months: Set<number>;
  /** Day-of-week spec (0 = Sunday): values, `nL`, `n#k`; undefined when `?`. */
  dow?: { values: Set<number>; lastOf?: number; nth?: { day: number; n: number } };
  years: Set<number> | undefined;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/** Parses an expression; throws an Error whose message says what is wrong. */
export function parseSchedule(expression: string): Schedule {
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2];
    const plural = unit.endsWith("s");
    if (n < 1 || (n === 1) === plural) {
      const singular = unit.replace(/s$/, "");
      throw new Error(
        `${expression}: write "rate(1 ${singular})" for one and "rate(N ${singular}s)" for more.`,
      );
    }
    const ms = { minute: 60_000, hour: 3_600_000, day: 86_400_000 }[unit.replace(/s$/, "") as "minute"];
    return { kind: "rate", everyMs: n * ms };
  }
  const cron = /^cron\((.*)\)$/.exec(expression.trim());
  if (!cron) throw new Error(`${expression}: expected rate(...) or cron(...).`);
  const parts = cron[1].trim().split(/\s+/);
  if (parts.length !== 6)
    throw new Error(
      `${expression}: cron takes 6 fields (minutes hours day-of-month month day-of-week year).`,
    );
  const [min, hour, dom, month, dow, year] = parts;
  if ((dom === "?") === (dow === "?"))
    throw new Error(`${expression}: one of day-of-month and day-of-week must be "?".`);
  return {
    kind: "cron",
    fields: {
      minutes: values(min, 0, 59),
      hours: values(hour, 0, 23),
      dom: dom === "?" ? undefined : dayOfMonth(dom),
      months: values(month, 1, 12, MONTHS, 1),
      dow: dow === "?" ? undefined : dayOfWeek(dow),
      years: year === "*" ? undefined : values(year, 1970, 2199),
    },
  };
}

/** `*`, `a`, `a-b`, `a/b`, `a-b/c`, `*\/c`, lists of these; names count from `base`. */
function values(field: string, lo: number, hi: number, names: string[] = [], base = 0): Set<number> {
  const out = new Set<number>();
  const number = (text: string): number => {
    const named = names.indexOf(text.toUpperCase());
    const n = named >= 0 ? named + base : Number(text);
    if (!Number.isInteger(n) || n < lo || n > hi)
      throw new Error(`"${field}": ${text} is not in ${lo}-${hi}.`);
    return n;
  };
  for (const piece of field.split(",")) {
    const [range, stepText] = piece.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`"${field}": bad step ${stepText}.`);
    let from = lo;
    let to = hi;
    if (range !== "*") {
      const [a, b] = range.split("-");
      from = number(a);
      to = b === undefined ? (stepText === undefined ? from : hi) : number(b);
    }
    for (let n = from; n <= to; n += step) out.add(n);
  }
  return out;
}

function dayOfMonth(field: string): NonNullable<CronFields["dom"]> {
  if (field === "L") return { values: new Set(), last: true, lastWeekday: false };
  if (field === "LW") return { values: new Set(), last: false, lastWeekday: true };
  const weekday = /^(\d+)W$/.exec(field);
  if (weekday)
    return { values: new Set(), last: false, lastWeekday: false, nearestWeekday: Number(weekday[1]) };
  return { values: values(field, 1, 31), last: false, lastWeekday: false };
}

function dayOfWeek(field: string): NonNullable<CronFields["dow"]> {
  const day = (text: string) => [...values(text, 1, 7, DAYS, 1)][0] - 1;
  const last = /^(\w+)L$/.exec(field);
  if (last) return { values: new Set(), lastOf: day(last[1]) };
  const nth = /^(\w+)#([1-5])$/.exec(field);
  if (nth) return { values: new Set(), nth: { day: day(nth[1]), n: Number(nth[2]) } };
  return { values: new Set([...values(field, 1, 7, DAYS, 1)].map((d) => d - 1)) };
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function dayMatches(fields: CronFields, year: number, month: number, day: number): boolean {
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  const last = daysIn(year, month);
  const { dom, dow } = fields;
  if (dom) {
    if (dom.last) return day === last;
    if (dom.lastWeekday) {
      const lastWeekday = [0, 1, 2]
        .map((back) => last - back)
        .find((d) => ![0, 6].includes(new Date(Date.UTC(year, month - 1, d)).getUTCDay()));
      return day === lastWeekday;
    }
    if (dom.nearestWeekday !== undefined) {
      const target = Math.min(dom.nearestWeekday, last);
      const wd = new Date(Date.UTC(year, month - 1, target)).getUTCDay();
      const nearest =
        wd === 6
          ? target === 1
            ? 3
            : target - 1
          : wd === 0
            ? target === last
              ? target - 2
              : target + 1
            : target;
      return day === nearest;
    }
    return dom.values.has(day);
  }
  if (dow!.lastOf !== undefined) return weekday === dow!.lastOf && day + 7 > last;
  if (dow!.nth) return weekday === dow!.nth.day && Math.ceil(day / 7) === dow!.nth.n;
  return dow!.values.has(weekday);
}

/** The first time strictly after `after` the schedule fires (rates count from `start`); undefined if never. */
export function nextFire(schedule: Schedule, after: Date, start: Date = after): Date | undefined {
  if (schedule.kind === "rate") {
    const periods = Math.floor((after.getTime() - start.getTime()) / schedule.everyMs) + 1;
    return new Date(start.getTime() + Math.max(1, periods) * schedule.everyMs);
  }
  const { fields } = schedule;
  const from = new Date(Math.floor(after.getTime() / 60_000) * 60_000 + 60_000);
  const day = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  for (let i = 0; i < 366 * 5; i++, day.setUTCDate(day.getUTCDate() + 1)) {
    const year = day.getUTCFullYear();
    const month = day.getUTCMonth() + 1;
    if (fields.years && !fields.years.has(year)) continue;
    if (!fields.months.has(month) || !dayMatches(fields, year, month, day.getUTCDate())) continue;
    for (const hour of [...fields.hours].sort((a, b) => a - b)) {
      for (const minute of [...fields.minutes].sort((a, b) => a - b)) {
        const at = new Date(day.getTime() + hour * 3_600_000 + minute * 60_000);
        if (at >= from) return at;
      }
    }
  }
  return undefined;
}
