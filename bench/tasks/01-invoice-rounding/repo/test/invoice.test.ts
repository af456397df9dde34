import { test } from "node:test";
import assert from "node:assert/strict";
import { formatMoney, invoiceTotals } from "../src/invoice";

test("an invoice without discount or tax totals its lines", () => {
  const totals = invoiceTotals({
    items: [
      { description: "widget", unitPrice: 2.5, quantity: 4 },
      { description: "gadget", unitPrice: 7, quantity: 1 },
    ],
    taxPercent: 0,
  });
  assert.deepEqual(totals, { subtotal: 17, discount: 0, tax: 0, total: 17 });
});

test("ticket #2291: three items at $0.10 make a subtotal of exactly 0.3", () => {
  const totals = invoiceTotals({ items: [{ description: "sticker", unitPrice: 0.1, quantity: 3 }], taxPercent: 0 });
  assert.equal(totals.subtotal, 0.3);
  assert.equal(totals.total, 0.3);
});

test("formatMoney groups thousands and shows cents", () => {
  assert.equal(formatMoney(1234.5), "$1,234.50");
  assert.equal(formatMoney(0.05), "$0.05");
  assert.equal(formatMoney(-3), "-$3.00");
});
