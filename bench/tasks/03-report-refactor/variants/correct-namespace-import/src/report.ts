// Variant (bench check): formatting as in solution/, the summary module imported as a namespace.
// Sales reports by region, in three formats. Each report lists the regions that have paid or refunded
// orders: the number of paid orders, the revenue (paid minus refunded amounts) and the customer with the
// highest revenue in the region (see summary.ts). Pending orders are ignored.
import type { Order } from "./orders";
import * as summaries from "./summary";

export function csvReport(orders: Order[]): string {
  const summary = summaries.summarizeOrders(orders);
  const lines = ["region,orders,revenue,top_customer"];
  for (const r of summary.regions) {
    lines.push([csvField(r.region), r.orders, (r.revenueCents / 100).toFixed(2), csvField(r.topCustomer ?? "")].join(","));
  }
  lines.push(["TOTAL", summary.totalOrders, (summary.totalRevenueCents / 100).toFixed(2), ""].join(","));
  return lines.join("\n") + "\n";
}

export function markdownReport(orders: Order[]): string {
  const summary = summaries.summarizeOrders(orders);
  const lines = ["| Region | Orders | Revenue | Top customer |", "| --- | ---: | ---: | --- |"];
  for (const r of summary.regions) {
    const top = r.topCustomer === null ? "—" : mdCell(r.topCustomer);
    lines.push(`| ${mdCell(r.region)} | ${r.orders} | ${money(r.revenueCents)} | ${top} |`);
  }
  lines.push(`| **Total** | **${summary.totalOrders}** | **${money(summary.totalRevenueCents)}** | |`);
  return lines.join("\n") + "\n";
}

export function htmlReport(orders: Order[]): string {
  const summary = summaries.summarizeOrders(orders);
  const out = ["<table>", "<tr><th>Region</th><th>Orders</th><th>Revenue</th><th>Top customer</th></tr>"];
  for (const r of summary.regions) {
    out.push(`<tr><td>${escapeHtml(r.region)}</td><td>${r.orders}</td><td>${money(r.revenueCents)}</td>` +
      `<td>${r.topCustomer === null ? "" : escapeHtml(r.topCustomer)}</td></tr>`);
  }
  out.push(`<tr class="total"><td>Total</td><td>${summary.totalOrders}</td><td>${money(summary.totalRevenueCents)}</td><td></td></tr>`);
  out.push("</table>");
  return out.join("\n") + "\n";
}

function money(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  return `${sign}$${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function mdCell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
