// Variant (bench check, written apart from solution/): the summary with extra fields (customers, a
// per-region breakdown), which TASK.md's interfaces allow; report.ts imports the module as a namespace.
import type { Order } from "./orders";

export interface RegionSummary {
  region: string;
  orders: number;
  revenueCents: number;
  topCustomer: string | null;
  customers: number;             // distinct customers with paid or refunded orders (extra)
}

export interface OrdersSummary {
  regions: RegionSummary[];
  totalOrders: number;
  totalRevenueCents: number;
  generatedFrom: number;         // how many orders were read (extra)
}

const codeUnitOrder = (a: string, b: string) => (a === b ? 0 : a < b ? -1 : 1);

export function summarizeOrders(orders: Order[]): OrdersSummary {
  const byRegion: Record<string, { paid: number; net: number; perCustomer: Record<string, number> }> = Object.create(null);
  for (const { region, customer, amountCents, status } of orders) {
    if (status !== "paid" && status !== "refunded") continue;
    const entry = (byRegion[region] ??= { paid: 0, net: 0, perCustomer: Object.create(null) });
    const delta = status === "paid" ? amountCents : -amountCents;
    entry.paid += status === "paid" ? 1 : 0;
    entry.net += delta;
    entry.perCustomer[customer] = (entry.perCustomer[customer] ?? 0) + delta;
  }
  const regions: RegionSummary[] = Object.keys(byRegion).map((region) => {
    const { paid, net, perCustomer } = byRegion[region];
    const ranked = Object.entries(perCustomer)
      .filter(([, cents]) => cents > 0)
      .sort(([n1, c1], [n2, c2]) => c2 - c1 || codeUnitOrder(n1, n2));
    return {
      region,
      orders: paid,
      revenueCents: net,
      topCustomer: ranked.length > 0 ? ranked[0][0] : null,
      customers: Object.keys(perCustomer).length,
    };
  });
  regions.sort((x, y) => y.revenueCents - x.revenueCents || codeUnitOrder(x.region, y.region));
  let totalOrders = 0;
  let totalRevenueCents = 0;
  for (const r of regions) {
    totalOrders += r.orders;
    totalRevenueCents += r.revenueCents;
  }
  return { regions, totalOrders, totalRevenueCents, generatedFrom: orders.length };
}
