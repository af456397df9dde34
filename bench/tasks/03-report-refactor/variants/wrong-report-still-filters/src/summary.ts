// Variant (bench check): report.ts still drops pending orders itself before summarising (same output, not the refactor asked for).
// The per-region sales summary that every report format shows.
import type { Order } from "./orders";

export interface RegionSummary {
  region: string;
  orders: number;             // paid orders in the region
  revenueCents: number;       // paid minus refunded amounts
  topCustomer: string | null; // highest positive revenue; ties go to the name first in code-unit order
}

export interface OrdersSummary {
  regions: RegionSummary[];   // by revenue, highest first, then by region name in code-unit order
  totalOrders: number;
  totalRevenueCents: number;
}

interface RegionTally {
  orders: number;
  revenueCents: number;
  revenueByCustomer: Map<string, number>;
}

export function summarizeOrders(orders: Order[]): OrdersSummary {
  const tallies = new Map<string, RegionTally>();
  for (const order of orders) {
    if (order.status === "pending") continue;
    let tally = tallies.get(order.region);
    if (!tally) {
      tally = { orders: 0, revenueCents: 0, revenueByCustomer: new Map() };
      tallies.set(order.region, tally);
    }
    const signed = order.status === "refunded" ? -order.amountCents : order.amountCents;
    if (order.status === "paid") tally.orders += 1;
    tally.revenueCents += signed;
    tally.revenueByCustomer.set(order.customer, (tally.revenueByCustomer.get(order.customer) ?? 0) + signed);
  }
  const regions = [...tallies.entries()]
    .map(([region, tally]): RegionSummary => ({
      region,
      orders: tally.orders,
      revenueCents: tally.revenueCents,
      topCustomer: topCustomer(tally.revenueByCustomer),
    }))
    .sort((a, b) => b.revenueCents - a.revenueCents || compareCodeUnits(a.region, b.region));
  return {
    regions,
    totalOrders: regions.reduce((sum, r) => sum + r.orders, 0),
    totalRevenueCents: regions.reduce((sum, r) => sum + r.revenueCents, 0),
  };
}

/** The customer with the highest positive revenue; null when no one's is positive. */
function topCustomer(revenueByCustomer: Map<string, number>): string | null {
  let top: string | null = null;
  let topRevenue = 0;
  for (const [customer, revenue] of revenueByCustomer) {
    if (revenue > topRevenue || (revenue === topRevenue && top !== null && customer < top)) {
      top = customer;
      topRevenue = revenue;
    }
  }
  return top;
}

// Plain < on strings (UTF-16 code units), not localeCompare: the reports have always sorted this way.
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
