// Variant (bench check, written apart from solution/): UTC Date objects, with setUTCFullYear so that
// years below 100 stay in the first century; UTC has no DST, so whole days are 86 400 000 ms.

export interface CalendarDate {
  year: number;
  /** 1 (January) to 12 (December). */
  month: number;
  day: number;
}

export interface IsoWeekDate {
  weekYear: number;
  /** 1 to 52 or 53. */
  week: number;
  /** 1 (Monday) to 7 (Sunday). */
  weekday: number;
}

const DAY = 86_400_000;

function utc(year: number, month: number, day: number): Date {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return d;
}

const isoWeekday = (d: Date) => ((d.getUTCDay() + 6) % 7) + 1;

function firstMonday(weekYear: number): number {
  const jan4 = utc(weekYear, 1, 4);
  return jan4.getTime() - (isoWeekday(jan4) - 1) * DAY;
}

const isInt = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;

export function toIsoWeek({ year, month, day }: CalendarDate): IsoWeekDate {
  if (!isInt(year, 1, 9999) || !isInt(month, 1, 12) || !Number.isInteger(day)) throw new RangeError("bad date");
  const d = utc(year, month, day);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) {
    throw new RangeError("no such day");
  }
  const thursday = new Date(d.getTime() + (4 - isoWeekday(d)) * DAY);
  const weekYear = thursday.getUTCFullYear();
  return { weekYear, week: Math.round((thursday.getTime() - firstMonday(weekYear)) / DAY / 7 - 3 / 7) + 1, weekday: isoWeekday(d) };
}

export function fromIsoWeek({ weekYear, week, weekday }: IsoWeekDate): CalendarDate {
  if (!isInt(weekYear, 1, 9999) || !isInt(weekday, 1, 7)) throw new RangeError("bad week date");
  const weeks = (firstMonday(weekYear + 1) - firstMonday(weekYear)) / DAY / 7;
  if (!isInt(week, 1, weeks)) throw new RangeError(`week-year ${weekYear} has ${weeks} weeks`);
  const d = new Date(firstMonday(weekYear) + ((week - 1) * 7 + (weekday - 1)) * DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
