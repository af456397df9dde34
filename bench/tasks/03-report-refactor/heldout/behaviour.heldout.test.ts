// Held-out validation for task 03 (never shown to the agent): the refactored reports must print exactly
// what the reports shipped with the task print (frozen in original-report.ts), on hand-picked odd cases
// and on seeded random order books. The unmodified task passes this file by construction.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as refactored from "../src/report";
import * as original from "./original-report";
import type { Order, OrderStatus } from "../src/orders";

const formats = ["csvReport", "markdownReport", "htmlReport"] as const;

function assertSameReports(orders: Order[], label: string) {
  for (const format of formats) {
    assert.equal(refactored[format](orders), original[format](orders), `${format} differs on ${label}`);
  }
}

let nextId = 0;
const order = (customer: string, region: string, amountCents: number, status: OrderStatus): Order =>
  ({ id: String(++nextId), customer, region, amountCents, status });

test("empty input", () => assertSameReports([], "no orders"));

test("only pending orders", () => {
  assertSameReports([order("A", "r", 100, "pending"), order("B", "s", 5, "pending")], "pending only");
});

test("a region with only refunds, and revenue below zero", () => {
  assertSameReports([
    order("A", "west", 500, "refunded"),
    order("B", "east", 100, "paid"),
    order("B", "east", 250, "refunded"),
  ], "refunds");
});

test("ties between customers and between regions", () => {
  assertSameReports([
    order("adam", "b-region", 300, "paid"),
    order("Zed", "b-region", 300, "paid"),
    order("Émile", "a-region", 600, "paid"),
    order("eve", "B-region", 600, "paid"),
    order("x", "a-region", 0, "paid"),
  ], "ties");
});

test("names that need escaping in each format", () => {
  assertSameReports([
    order('O"Neil, Pat', "north|east", 1234, "paid"),
    order("<script>&", "a,b", 99, "paid"),
    order("multi\nline", "a,b", 199, "paid"),
    order("", "", 1, "paid"),
  ], "escaping");
});

test("a customer refunded down to zero is not the top customer", () => {
  assertSameReports([
    order("A", "r", 700, "paid"),
    order("A", "r", 700, "refunded"),
    order("B", "r", 10, "paid"),
  ], "refunded to zero");
});

// A small deterministic generator (mulberry32) so that failures are reproducible.
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("seeded random order books", () => {
  const customers = ["ann", "Ann", "bob", "Bob", "Çelik", "zoë", "Zoe", "d'Arcy", "x,y", "<b>"];
  const regions = ["north", "North", "south", "east", "Ørsted", "a|b"];
  const statuses: OrderStatus[] = ["paid", "paid", "paid", "refunded", "pending"];
  for (let seed = 1; seed <= 300; seed++) {
    const next = random(seed);
    const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)];
    const count = Math.floor(next() * 14);
    const orders: Order[] = [];
    for (let i = 0; i < count; i++) {
      // Few distinct amounts so that revenue ties are common.
      orders.push(order(pick(customers), pick(regions), pick([0, 100, 250, 500, 999, 1000]), pick(statuses)));
    }
    assertSameReports(orders, `seed ${seed}`);
  }
});
