import { test } from "node:test";
import assert from "node:assert/strict";
import { fromIsoWeek, toIsoWeek } from "../src/isoWeek";

test("a Saturday in June 2024 is in week 24", () => {
  assert.deepEqual(toIsoWeek({ year: 2024, month: 6, day: 15 }), { weekYear: 2024, week: 24, weekday: 6 });
});

test("fromIsoWeek gives the calendar date back", () => {
  assert.deepEqual(fromIsoWeek({ weekYear: 2024, week: 24, weekday: 6 }), { year: 2024, month: 6, day: 15 });
});

test("January 4th is always in week 1 of its own year", () => {
  for (const year of [2019, 2020, 2021, 2022, 2023]) {
    const iso = toIsoWeek({ year, month: 1, day: 4 });
    assert.equal(iso.weekYear, year);
    assert.equal(iso.week, 1);
  }
});

test("an impossible month is refused", () => {
  assert.throws(() => toIsoWeek({ year: 2024, month: 13, day: 1 }), RangeError);
});
