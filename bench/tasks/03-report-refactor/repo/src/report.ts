// Sales reports by region, in three formats. Each report lists the regions that have paid or refunded
// orders: the number of paid orders, the revenue (paid minus refunded amounts) and the customer with the
// highest revenue in the region. Pending orders are ignored.
import type { Order } from "./orders";

export function csvReport(orders: Order[]): string {
  const byRegion = new Map<string, { orders: number; revenue: number; customers: Map<string, number> }>();
  for (const order of orders) {
    if (order.status === "pending") continue;
    let entry = byRegion.get(order.region);
    if (!entry) {
      entry = { orders: 0, revenue: 0, customers: new Map() };
      byRegion.set(order.region, entry);
    }
    const signed = order.status === "refunded" ? -order.amountCents : order.amountCents;
    if (order.status === "paid") entry.orders += 1;
    entry.revenue += signed;
    entry.customers.set(order.customer, (entry.customers.get(order.customer) ?? 0) + signed);
  }
  const rows = [...byRegion.entries()].sort((a, b) => b[1].revenue - a[1].revenue || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const lines = ["region,orders,revenue,top_customer"];
  let totalOrders = 0;
  let totalRevenue = 0;
  for (const [region, entry] of rows) {
    let top: string | null = null;
    let topRevenue = 0;
    for (const [customer, revenue] of entry.customers) {
      if (revenue > topRevenue || (revenue === topRevenue && top !== null && customer < top)) {
        top = customer;
        topRevenue = revenue;
      }
    }
    totalOrders += entry.orders;
    totalRevenue += entry.revenue;
    lines.push([csvField(region), entry.orders, (entry.revenue / 100).toFixed(2), csvField(top ?? "")].join(","));
  }
  lines.push(["TOTAL", totalOrders, (totalRevenue / 100).toFixed(2), ""].join(","));
  return lines.join("\n") + "\n";
}

export function markdownReport(orders: Order[]): string {
  const byRegion = new Map<string, { orders: number; revenue: number; customers: Map<string, number> }>();
  for (const order of orders) {
    if (order.status === "pending") continue;
    let entry = byRegion.get(order.region);
    if (!entry) {
      entry = { orders: 0, revenue: 0, customers: new Map() };
      byRegion.set(order.region, entry);
    }
    const signed = order.status === "refunded" ? -order.amountCents : order.amountCents;
    if (order.status === "paid") entry.orders += 1;
    entry.revenue += signed;
    entry.customers.set(order.customer, (entry.customers.get(order.customer) ?? 0) + signed);
  }
  const rows = [...byRegion.entries()].sort((a, b) => b[1].revenue - a[1].revenue || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const lines = ["| Region | Orders | Revenue | Top customer |", "| --- | ---: | ---: | --- |"];
  let totalOrders = 0;
  let totalRevenue = 0;
  for (const [region, entry] of rows) {
    let top: string | null = null;
    let topRevenue = 0;
    for (const [customer, revenue] of entry.customers) {
      if (revenue > topRevenue || (revenue === topRevenue && top !== null && customer < top)) {
        top = customer;
        topRevenue = revenue;
      }
    }
    totalOrders += entry.orders;
    totalRevenue += entry.revenue;
    lines.push(`| ${mdCell(region)} | ${entry.orders} | ${money(entry.revenue)} | ${top === null ? "—" : mdCell(top)} |`);
  }
  lines.push(`| **Total** | **${totalOrders}** | **${money(totalRevenue)}** | |`);
  return lines.join("\n") + "\n";
}

export function htmlReport(orders: Order[]): string {
  const byRegion = new Map<string, { orders: number; revenue: number; customers: Map<string, number> }>();
  for (const order of orders) {
    if (order.status === "pending") continue;
    let entry = byRegion.get(order.region);
    if (!entry) {
      entry = { orders: 0, revenue: 0, customers: new Map() };
      byRegion.set(order.region, entry);
    }
    const signed = order.status === "refunded" ? -order.amountCents : order.amountCents;
    if (order.status === "paid") entry.orders += 1;
    entry.revenue += signed;
    entry.customers.set(order.customer, (entry.customers.get(order.customer) ?? 0) + signed);
  }
  const rows = [...byRegion.entries()].sort((a, b) => b[1].revenue - a[1].revenue || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out = ["<table>", "<tr><th>Region</th><th>Orders</th><th>Revenue</th><th>Top customer</th></tr>"];
  let totalOrders = 0;
  let totalRevenue = 0;
  for (const [region, entry] of rows) {
    let top: string | null = null;
    let topRevenue = 0;
    for (const [customer, revenue] of entry.customers) {
      if (revenue > topRevenue || (revenue === topRevenue && top !== null && customer < top)) {
        top = customer;
        topRevenue = revenue;
      }
    }
    totalOrders += entry.orders;
    totalRevenue += entry.revenue;
    out.push(`<tr><td>${escapeHtml(region)}</td><td>${entry.orders}</td><td>${money(entry.revenue)}</td>` +
      `<td>${top === null ? "" : escapeHtml(top)}</td></tr>`);
  }
  out.push(`<tr class="total"><td>Total</td><td>${totalOrders}</td><td>${money(totalRevenue)}</td><td></td></tr>`);
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
