// Variant (bench check): the common snippet on local-time Date objects: new Date(y, m - 1, d) maps years
// 0-99 to 1900-1999, and days are added as 86 400 000 ms, which a DST change shifts by an hour.

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

const DAY_MS = 86_400_000;

export function toIsoWeek({ year, month, day }: CalendarDate): IsoWeekDate {
  const d = new Date(year, month - 1, day);
  if (d.getFullYear() !== year || d.getMonth() !== month - 1 || d.getDate() !== day || year > 9999) {
    throw new RangeError("invalid date");
  }
  const weekday = d.getDay() === 0 ? 7 : d.getDay();
  const thursday = new Date(d.getTime() + (4 - weekday) * DAY_MS);
  const weekYear = thursday.getFullYear();
  const jan1 = new Date(weekYear, 0, 1);
  const week = Math.ceil(((thursday.getTime() - jan1.getTime()) / DAY_MS + 1) / 7);
  return { weekYear, week, weekday };
}

export function fromIsoWeek({ weekYear, week, weekday }: IsoWeekDate): CalendarDate {
  if (![weekYear, week, weekday].every(Number.isInteger) || weekYear < 1 || weekYear > 9999 || weekday < 1 || weekday > 7) {
    throw new RangeError("invalid week date");
  }
  const jan4 = new Date(weekYear, 0, 4);
  const monday1 = jan4.getTime() - ((jan4.getDay() + 6) % 7) * DAY_MS;
  const dec28 = new Date(weekYear, 11, 28);
  const weeks = toIsoWeek({ year: weekYear, month: 12, day: 28 }).week;
  if (week < 1 || week > weeks || dec28.getFullYear() !== weekYear) throw new RangeError("invalid week");
  const d = new Date(monday1 + ((week - 1) * 7 + weekday - 1) * DAY_MS);
  return { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate() };
}
