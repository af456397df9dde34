// Held-out validation for task 01: never shown to the agent. Expected amounts are worked out in whole
// cents by hand; several land on exactly half a cent, which rounding with Math.round(x * 100) / 100 on
// floating-point dollars gets wrong (1.005 is stored as 1.00499999...).
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatMoney, invoiceTotals, type LineItem } from "../src/invoice";

const item = (unitPrice: number, quantity: number): LineItem => ({ description: "x", unitPrice, quantity });

function assertWholeCents(amounts: Record<string, number>) {
  for (const [name, value] of Object.entries(amounts)) {
    assert.equal(value, Math.round(value * 100) / 100, `${name} = ${value} is not a whole number of cents`);
  }
}

test("a 50% discount of $2.01 is $1.005, rounded half up to $1.01", () => {
  const totals = invoiceTotals({ items: [item(2.01, 1)], discountPercent: 50, taxPercent: 0 });
  assert.deepEqual(totals, { subtotal: 2.01, discount: 1.01, tax: 0, total: 1 });
});

test("a 12.5% discount of $100.04 is $12.505, rounded half up to $12.51", () => {
  const totals = invoiceTotals({ items: [item(100.04, 1)], discountPercent: 12.5, taxPercent: 0 });
  assert.deepEqual(totals, { subtotal: 100.04, discount: 12.51, tax: 0, total: 87.53 });
});

test("tax of exactly half a cent rounds up: 5% of $10.10 is 50.5c -> 51c, 5% of $0.30 is 1.5c -> 2c", () => {
  assert.deepEqual(invoiceTotals({ items: [item(10.1, 1)], taxPercent: 5 }),
    { subtotal: 10.1, discount: 0, tax: 0.51, total: 10.61 });
  assert.deepEqual(invoiceTotals({ items: [item(0.3, 1)], taxPercent: 5 }),
    { subtotal: 0.3, discount: 0, tax: 0.02, total: 0.32 });
});

test("tax is computed on the rounded discounted amount", () => {
  // subtotal 0.99, discount 15% = 14.85c -> 15c, taxable 84c, tax 8.25% = 6.93c -> 7c
  const totals = invoiceTotals({ items: [item(0.99, 1)], discountPercent: 15, taxPercent: 8.25 });
  assert.deepEqual(totals, { subtotal: 0.99, discount: 0.15, tax: 0.07, total: 0.91 });
  // discount 50% of 85c = 42.5c -> 43c, taxable 42c, tax 20% = 8.4c -> 8c; on the unrounded 42.5c the tax
  // would be 8.5c -> 9c
  assert.deepEqual(invoiceTotals({ items: [item(0.85, 1)], discountPercent: 50, taxPercent: 20 }),
    { subtotal: 0.85, discount: 0.43, tax: 0.08, total: 0.5 });
});

test("percentages that binary floating point cannot hold still land exactly on half a cent", () => {
  // 8.45% of 3000c is exactly 253.5c, but 3000 * 8.45 / 100 is 253.49999999999997 in floating point.
  assert.deepEqual(invoiceTotals({ items: [item(30, 1)], taxPercent: 8.45 }),
    { subtotal: 30, discount: 0, tax: 2.54, total: 32.54 });
  // 4.35% of 3000c is exactly 130.5c (3000 * (4.35 / 100) is fine, 3000 * 4.35 / 100 is not).
  assert.deepEqual(invoiceTotals({ items: [item(30, 1)], discountPercent: 4.35, taxPercent: 0 }),
    { subtotal: 30, discount: 1.31, tax: 0, total: 28.69 });
  // 0.35% of 7000c is exactly 24.5c (7000 * 0.35 / 100 is fine, 7000 * (0.35 / 100) is not).
  assert.deepEqual(invoiceTotals({ items: [item(70, 1)], taxPercent: 0.35 }),
    { subtotal: 70, discount: 0, tax: 0.25, total: 70.25 });
});

test("prices whose cents floating point cannot hold are not truncated", () => {
  // 0.29 * 100 is 28.999999999999996 and 1.13 * 100 is 112.99999999999999.
  assert.deepEqual(invoiceTotals({ items: [item(0.29, 1), item(1.13, 2)], taxPercent: 0 }),
    { subtotal: 2.55, discount: 0, tax: 0, total: 2.55 });
});

test("a half-cent discount on one cent is rounded before the total, not after", () => {
  // discount 50% of 1c = 0.5c -> 1c, so the total is 0c (rounding only the final 0.5c would give 1c)
  const totals = invoiceTotals({ items: [item(0.01, 1)], discountPercent: 50, taxPercent: 0 });
  assert.deepEqual(totals, { subtotal: 0.01, discount: 0.01, tax: 0, total: 0 });
});

test("tax below half a cent rounds down: 1.5% of $8.70 is 13.05c -> 13c", () => {
  const totals = invoiceTotals({ items: [item(8.7, 1)], taxPercent: 1.5 });
  assert.deepEqual(totals, { subtotal: 8.7, discount: 0, tax: 0.13, total: 8.83 });
});

test("a 10% tax of $0.15 is exactly 1.5c and rounds up to 2c", () => {
  const totals = invoiceTotals({ items: [item(0.05, 3)], taxPercent: 10 });
  assert.deepEqual(totals, { subtotal: 0.15, discount: 0, tax: 0.02, total: 0.17 });
});

test("many lines with two-decimal prices sum exactly", () => {
  const totals = invoiceTotals({
    items: [item(19.99, 3), item(0.07, 7), item(4.35, 2), item(0.1, 9), item(1234.56, 1)],
    discountPercent: 0,
    taxPercent: 0,
  });
  assert.equal(totals.subtotal, 1304.62);
  assert.equal(totals.total, 1304.62);
});

test("every amount is a whole number of cents across a range of invoices", () => {
  for (let cents = 1; cents <= 400; cents += 7) {
    for (const discountPercent of [0, 5, 12.5, 33, 50]) {
      for (const taxPercent of [0, 7.25, 8.875, 20]) {
        const totals = invoiceTotals({ items: [item(cents / 100, 3), item(0.1, 1)], discountPercent, taxPercent });
        assertWholeCents({ ...totals });
        const subtotalCents = cents * 3 + 10;
        const discountCents = Math.floor((subtotalCents * discountPercent * 1000 + 50_000) / 100_000);
        const taxCents = Math.floor(((subtotalCents - discountCents) * taxPercent * 1000 + 50_000) / 100_000);
        assert.deepEqual(totals, {
          subtotal: subtotalCents / 100,
          discount: discountCents / 100,
          tax: taxCents / 100,
          total: (subtotalCents - discountCents + taxCents) / 100,
        }, `price ${cents}c, discount ${discountPercent}%, tax ${taxPercent}%`);
      }
    }
  }
});

test("an empty invoice totals zero", () => {
  assert.deepEqual(invoiceTotals({ items: [], discountPercent: 10, taxPercent: 8 }),
    { subtotal: 0, discount: 0, tax: 0, total: 0 });
});

test("formatMoney still formats as before", () => {
  assert.equal(formatMoney(1234567.891), "$1,234,567.89");
  assert.equal(formatMoney(0), "$0.00");
  assert.equal(formatMoney(-0.5), "-$0.50");
});
