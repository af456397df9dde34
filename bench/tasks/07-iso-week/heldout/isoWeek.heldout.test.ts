// Held-out validation for task 07: never shown to the agent. The expected week dates come from Python's
// datetime.date.isocalendar(), an implementation independent of this task's; the sweeps check properties
// that any correct conversion has. The time zone is set to one with historic midnight DST changes, where
// date arithmetic on local-time Date objects loses or repeats days.
process.env.TZ = "America/Sao_Paulo";
import { test } from "node:test";
import assert from "node:assert/strict";
import { fromIsoWeek, toIsoWeek } from "../src/isoWeek";

const date = (text: string) => {
  const [year, month, day] = text.split("-").map(Number);
  return { year, month, day };
};
const iso = (weekYear: number, week: number, weekday: number) => ({ weekYear, week, weekday });

const known: [string, ReturnType<typeof iso>][] = [
  ["2021-01-01", iso(2020, 53, 5)],
  ["2020-12-31", iso(2020, 53, 4)],
  ["2024-12-30", iso(2025, 1, 1)],
  ["2008-12-29", iso(2009, 1, 1)],
  ["2010-01-03", iso(2009, 53, 7)],
  ["2005-01-02", iso(2004, 53, 7)],
  ["2027-01-01", iso(2026, 53, 5)],
  ["1900-02-28", iso(1900, 9, 3)],
  ["1900-03-01", iso(1900, 9, 4)],
  ["2000-02-29", iso(2000, 9, 2)],
  ["1970-01-01", iso(1970, 1, 4)],
  ["2018-11-04", iso(2018, 44, 7)],
];

test("days around New Year belong to the week-year of their week", () => {
  for (const [text, expected] of known.slice(0, 7)) assert.deepEqual(toIsoWeek(date(text)), expected, text);
});

test("dates of the last two centuries, leap days and a midnight DST change", () => {
  for (const [text, expected] of known.slice(7)) assert.deepEqual(toIsoWeek(date(text)), expected, text);
});

test("years below 100 are years of the first century, not the 1900s", () => {
  assert.deepEqual(toIsoWeek(date("0045-03-01")), iso(45, 9, 3));
  assert.deepEqual(toIsoWeek(date("0099-12-31")), iso(99, 53, 4));
  assert.deepEqual(toIsoWeek(date("0001-01-01")), iso(1, 1, 1));
  assert.deepEqual(fromIsoWeek(iso(45, 9, 3)), date("0045-03-01"));
  assert.deepEqual(fromIsoWeek(iso(1, 1, 1)), date("0001-01-01"));
});

test("the last supported day", () => {
  assert.deepEqual(toIsoWeek(date("9999-12-31")), iso(9999, 52, 5));
  assert.deepEqual(fromIsoWeek(iso(9999, 52, 5)), date("9999-12-31"));
});

test("fromIsoWeek reaches into the neighbouring calendar years", () => {
  for (const [text, expected] of known) assert.deepEqual(fromIsoWeek(expected), date(text), JSON.stringify(expected));
});

test("week 53 exists only in long week-years", () => {
  for (const year of [2004, 2009, 2015, 2020, 2026]) assert.deepEqual(toIsoWeek(fromIsoWeek(iso(year, 53, 1))), iso(year, 53, 1));
  for (const year of [2019, 2021, 2022, 2100, 9999]) assert.throws(() => fromIsoWeek(iso(year, 53, 1)), RangeError, String(year));
});

test("invalid calendar dates are refused", () => {
  for (const bad of ["1900-02-29", "2023-02-29", "2024-04-31", "2024-00-10", "2024-01-00", "0000-06-01", "10000-01-01"]) {
    assert.throws(() => toIsoWeek(date(bad)), RangeError, bad);
  }
  assert.throws(() => toIsoWeek({ year: 2024, month: 1.5, day: 1 }), RangeError);
  assert.throws(() => toIsoWeek({ year: 2024, month: 1, day: Number.NaN }), RangeError);
  assert.doesNotThrow(() => toIsoWeek(date("2400-02-29")));
});

test("invalid week dates are refused", () => {
  for (const bad of [iso(2024, 0, 1), iso(2024, 54, 1), iso(2024, 10, 0), iso(2024, 10, 8), iso(0, 10, 1), iso(2024, 2.5, 1)]) {
    assert.throws(() => fromIsoWeek(bad), RangeError, JSON.stringify(bad));
  }
});

test("consecutive days: weekdays cycle Monday to Sunday and weeks turn over on Mondays", () => {
  for (const start of ["1899-12-20", "1999-12-20", "2015-12-20", "2099-12-20"]) {
    let previous = toIsoWeek(date(start));
    let [y, m, d] = start.split("-").map(Number);
    for (let i = 0; i < 40; i++) {
      const lengths = [31, 28 + ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 1 : 0), 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
      d += 1;
      if (d > lengths[m - 1]) [m, d] = [m + 1, 1];
      if (m > 12) [y, m] = [y + 1, 1];
      const current = toIsoWeek({ year: y, month: m, day: d });
      assert.equal(current.weekday, (previous.weekday % 7) + 1, `${y}-${m}-${d}`);
      if (current.weekday === 1) {
        const sameYear = current.weekYear === previous.weekYear && current.week === previous.week + 1;
        const newYear = current.weekYear === previous.weekYear + 1 && current.week === 1 && previous.week >= 52;
        assert.ok(sameYear || newYear, `${y}-${m}-${d}: ${JSON.stringify(previous)} -> ${JSON.stringify(current)}`);
      } else {
        assert.equal(current.week, previous.week);
        assert.equal(current.weekYear, previous.weekYear);
      }
      assert.deepEqual(fromIsoWeek(current), { year: y, month: m, day: d });
      previous = current;
    }
  }
});
