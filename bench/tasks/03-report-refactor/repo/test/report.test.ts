import { test } from "node:test";
import assert from "node:assert/strict";
import { csvReport, htmlReport, markdownReport } from "../src/report";
import type { Order } from "../src/orders";

const orders: Order[] = [
  { id: "1", customer: "Ada", region: "north", amountCents: 12_000, status: "paid" },
  { id: "2", customer: "Bo", region: "north", amountCents: 4_550, status: "paid" },
  { id: "3", customer: "Cy", region: "south", amountCents: 9_999, status: "paid" },
  { id: "4", customer: "Ada", region: "north", amountCents: 2_000, status: "refunded" },
  { id: "5", customer: "Di", region: "south", amountCents: 50_000, status: "pending" },
];

test("csv report", () => {
  assert.equal(csvReport(orders),
    "region,orders,revenue,top_customer\n" +
    "north,2,145.50,Ada\n" +
    "south,1,99.99,Cy\n" +
    "TOTAL,3,245.49,\n");
});

test("markdown report", () => {
  assert.equal(markdownReport(orders),
    "| Region | Orders | Revenue | Top customer |\n" +
    "| --- | ---: | ---: | --- |\n" +
    "| north | 2 | $145.50 | Ada |\n" +
    "| south | 1 | $99.99 | Cy |\n" +
    "| **Total** | **3** | **$245.49** | |\n");
});

test("html report", () => {
  assert.equal(htmlReport(orders),
    "<table>\n" +
    "<tr><th>Region</th><th>Orders</th><th>Revenue</th><th>Top customer</th></tr>\n" +
    "<tr><td>north</td><td>2</td><td>$145.50</td><td>Ada</td></tr>\n" +
    "<tr><td>south</td><td>1</td><td>$99.99</td><td>Cy</td></tr>\n" +
    "<tr class=\"total\"><td>Total</td><td>3</td><td>$245.49</td><td></td></tr>\n" +
    "</table>\n");
});
