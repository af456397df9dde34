// Conversions between calendar dates and ISO 8601 week dates, by whole-day arithmetic on a day count
// (no Date objects, so no time zones and no two-digit-year quirks).

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

const isLeapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

function daysInMonth(year: number, month: number): number {
  return [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** Days from 0001-01-01 (day 0, a Monday in the proleptic Gregorian calendar) to the date. */
function dayNumber(year: number, month: number, day: number): number {
  const y = year - 1;
  let n = y * 365 + Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400);
  for (let m = 1; m < month; m++) n += daysInMonth(year, m);
  return n + day - 1;
}

const weekdayOf = (n: number) => (n % 7) + 1;

/** Day number of the Monday of week 1: the Monday of the week that holds January 4th. */
function week1Monday(weekYear: number): number {
  const jan4 = dayNumber(weekYear, 1, 4);
  return jan4 - (weekdayOf(jan4) - 1);
}

function weeksIn(weekYear: number): number {
  return (week1Monday(weekYear + 1) - week1Monday(weekYear)) / 7;
}

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

export function toIsoWeek(date: CalendarDate): IsoWeekDate {
  requireInteger("year", date.year, 1, 9999);
  requireInteger("month", date.month, 1, 12);
  requireInteger("day", date.day, 1, daysInMonth(date.year, date.month));
  const n = dayNumber(date.year, date.month, date.day);
  let weekYear = date.year;
  if (n < week1Monday(weekYear)) weekYear -= 1;
  else if (n >= week1Monday(weekYear + 1)) weekYear += 1;
  return { weekYear, week: Math.floor((n - week1Monday(weekYear)) / 7) + 1, weekday: weekdayOf(n) };
}

export function fromIsoWeek(isoDate: IsoWeekDate): CalendarDate {
  requireInteger("weekYear", isoDate.weekYear, 1, 9999);
  requireInteger("week", isoDate.week, 1, weeksIn(isoDate.weekYear));
  requireInteger("weekday", isoDate.weekday, 1, 7);
  const n = week1Monday(isoDate.weekYear) + (isoDate.week - 1) * 7 + (isoDate.weekday - 1);
  let year = isoDate.weekYear + 1;
  while (dayNumber(year, 1, 1) > n) year -= 1;
  let month = 1;
  while (month < 12 && dayNumber(year, month + 1, 1) <= n) month += 1;
  return { year, month, day: n - dayNumber(year, month, 1) + 1 };
}
