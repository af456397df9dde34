// Variant (bench check, written apart from solution/): one sort of the paid and refunded orders by
// region, then a single pass per region; the result carries an extra field per region (refunds).
import type { Order } from "./orders";

export interface RegionSummary {
  region: string;
  orders: number;
  revenueCents: number;
  topCustomer: string | null;
  refunds: number;               // refunded orders in the region (extra)
}

export interface OrdersSummary {
  regions: RegionSummary[];
  totalOrders: number;
  totalRevenueCents: number;
}

function summarizeRegion(region: string, orders: Order[]): RegionSummary {
  const net = new Map<string, number>();
  let paid = 0;
  let refunds = 0;
  let revenueCents = 0;
  for (const o of orders) {
    const signed = o.status === "refunded" ? -o.amountCents : o.amountCents;
    if (o.status === "refunded") refunds++;
    else paid++;
    revenueCents += signed;
    net.set(o.customer, (net.get(o.customer) ?? 0) + signed);
  }
  let topCustomer: string | null = null;
  for (const [name, cents] of net) {
    if (cents <= 0) continue;
    const best = topCustomer === null ? 0 : (net.get(topCustomer) as number);
    if (topCustomer === null || cents > best || (cents === best && name < topCustomer)) topCustomer = name;
  }
  return { region, orders: paid, revenueCents, topCustomer, refunds };
}

export function summarizeOrders(orders: Order[]): OrdersSummary {
  const settled = orders.filter((o) => o.status === "paid" || o.status === "refunded");
  const groups = new Map<string, Order[]>();
  for (const o of settled) groups.set(o.region, [...(groups.get(o.region) ?? []), o]);
  const regions = [...groups].map(([region, list]) => summarizeRegion(region, list));
  regions.sort((a, b) => {
    if (a.revenueCents !== b.revenueCents) return b.revenueCents - a.revenueCents;
    return a.region < b.region ? -1 : a.region > b.region ? 1 : 0;
  });
  return {
    regions,
    totalOrders: regions.reduce((n, r) => n + r.orders, 0),
    totalRevenueCents: regions.reduce((n, r) => n + r.revenueCents, 0),
  };
}
