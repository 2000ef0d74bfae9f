/**
 * How often an EventBridge Scheduler expression fires in a month (730 hours, AWS's billing
 * month), for the cost estimate. rate() is exact; cron() is counted field by field (minutes x
 * hours x days of the month x months of the year / 12), which is exact for the usual shapes
 * (`cron(0 6 * * ? *)`, `cron(0/15 * ? * MON-FRI *)`) and an average for the rest: `L`, `W` and
 * `#` count as one day a month, the year field is ignored.
 */
export const HOURS_PER_MONTH = 730;
export const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;

const NAMES: Record<string, number> = {
  JAN: 1, FEB: 2, MAR: 3, APR: 4, MAY: 5, JUN: 6, JUL: 7, AUG: 8, SEP: 9, OCT: 10, NOV: 11, DEC: 12,
  SUN: 1, MON: 2, TUE: 3, WED: 4, THU: 5, FRI: 6, SAT: 7,
};

/** How many values of [min, max] a cron field matches; undefined for a wildcard (`*`, `?`). */
function matches(field: string, min: number, max: number): number | undefined {
  if (field === '*' || field === '?') return undefined;
  const hit = new Set<number>();
  for (const part of field.split(',')) {
    if (/[LW#]/.test(part)) {
      hit.add(-hit.size - 1); // one occurrence a month, whatever day it is
      continue;
    }
    const [range, stepText] = part.split('/');
    const step = stepText ? Number(stepText) : 1;
    const num = (s: string) => (NAMES[s.toUpperCase()] ?? Number(s));
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') [lo, hi] = [min, max];
    else if (range.includes('-')) [lo, hi] = range.split('-').map(num) as [number, number];
    else [lo, hi] = [num(range), stepText ? max : num(range)];
    if (![lo, hi, step].every(Number.isFinite) || step < 1) throw new Error(`cannot read cron field ${JSON.stringify(field)}`);
    for (let v = lo; v <= hi; v += step) hit.add(v);
  }
  return hit.size;
}

/** Invocations a month of a schedule expression: `rate(1 hour)` 730, `rate(1 day)` 30.4. */
export function runsPerMonth(expression: string): number {
  const rate = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(expression.trim());
  if (rate) {
    const n = Number(rate[1]);
    const hours = rate[2].startsWith('minute') ? n / 60 : rate[2].startsWith('hour') ? n : n * 24;
    return HOURS_PER_MONTH / hours;
  }
  const cron = /^cron\(\s*(.+?)\s*\)$/.exec(expression.trim());
  if (cron) {
    const f = cron[1].split(/\s+/);
    if (f.length !== 6) throw new Error(`cannot read schedule ${expression}: cron() takes 6 fields`);
    const [min, hour, dom, month, dow] = f;
    const minutes = matches(min, 0, 59) ?? 60;
    const hours = matches(hour, 0, 23) ?? 24;
    const domN = matches(dom, 1, 31);
    const dowN = matches(dow, 1, 7);
    const days = domN !== undefined ? domN : dowN !== undefined ? (dowN / 7) * DAYS_PER_MONTH : DAYS_PER_MONTH;
    const months = (matches(month, 1, 12) ?? 12) / 12;
    return minutes * hours * days * months;
  }
  // A one-time at() schedule runs once, not monthly.
  if (/^at\(/.test(expression.trim())) return 0;
  throw new Error(`cannot read schedule ${expression}`);
}
