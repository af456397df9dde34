// Variant (bench check, written apart from solution/): the ordinal-date method: week = (ordinal - weekday
// + 10) / 7, rounded down; week 0 is the last week of the year before, a week past the year's count is week 1.

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

const leap = (y: number) => y % 400 === 0 || (y % 100 !== 0 && y % 4 === 0);
const CUMULATIVE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

function ordinal(y: number, m: number, d: number): number {
  return CUMULATIVE[m - 1] + d + (m > 2 && leap(y) ? 1 : 0);
}

// Day of the week (1 Monday .. 7 Sunday) by Gauss's method for January 1st, then the ordinal.
function weekdayOf(y: number, m: number, d: number): number {
  const p = y - 1;
  const jan1 = (1 + 5 * (p % 4) + 4 * (p % 100) + 6 * (p % 400)) % 7; // 0 Sunday
  const jan1Iso = jan1 === 0 ? 7 : jan1;
  return ((jan1Iso - 1 + ordinal(y, m, d) - 1) % 7) + 1;
}

// A week-year has 53 weeks when it starts on a Thursday, or on a Wednesday in a leap year.
function weeksIn(y: number): number {
  const jan1 = weekdayOf(y, 1, 1);
  return jan1 === 4 || (jan1 === 3 && leap(y)) ? 53 : 52;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new RangeError(what);
}

export function toIsoWeek({ year, month, day }: CalendarDate): IsoWeekDate {
  check(Number.isInteger(year) && year >= 1 && year <= 9999, "year");
  check(Number.isInteger(month) && month >= 1 && month <= 12, "month");
  const length = month === 2 ? (leap(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  check(Number.isInteger(day) && day >= 1 && day <= length, "day");
  const weekday = weekdayOf(year, month, day);
  const week = Math.floor((ordinal(year, month, day) - weekday + 10) / 7);
  if (week < 1) return { weekYear: year - 1, week: weeksIn(year - 1), weekday };
  if (week > weeksIn(year)) return { weekYear: year + 1, week: 1, weekday };
  return { weekYear: year, week, weekday };
}

export function fromIsoWeek({ weekYear, week, weekday }: IsoWeekDate): CalendarDate {
  check(Number.isInteger(weekYear) && weekYear >= 1 && weekYear <= 9999, "weekYear");
  check(Number.isInteger(week) && week >= 1 && week <= weeksIn(weekYear), "week");
  check(Number.isInteger(weekday) && weekday >= 1 && weekday <= 7, "weekday");
  // Ordinal in weekYear (may fall before day 1 or after the year's last day).
  let day = week * 7 + weekday - (weekdayOf(weekYear, 1, 4) + 3);
  let year = weekYear;
  const yearLength = (y: number) => (leap(y) ? 366 : 365);
  if (day < 1) {
    year -= 1;
    day += yearLength(year);
  } else if (day > yearLength(year)) {
    day -= yearLength(year);
    year += 1;
  }
  let month = 12;
  while (ordinal(year, month, 1) > day) month -= 1;
  return { year, month, day: day - ordinal(year, month, 1) + 1 };
}
