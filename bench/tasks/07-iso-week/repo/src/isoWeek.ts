// Conversions between calendar dates and ISO 8601 week dates: see TASK.md.

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

export function toIsoWeek(date: CalendarDate): IsoWeekDate {
  throw new Error("not implemented");
}

export function fromIsoWeek(isoDate: IsoWeekDate): CalendarDate {
  throw new Error("not implemented");
}
