// Invoice arithmetic for the billing service.
// Variant (bench check, written apart from solution/): exact BigInt arithmetic on the decimal digits of prices and percentages.

export interface LineItem {
  description: string;
  /** Price of one unit in dollars, with at most two decimals (e.g. 19.99). */
  unitPrice: number;
  /** Number of units, a non-negative integer. */
  quantity: number;
}

export interface Invoice {
  items: LineItem[];
  /** Percentage taken off the subtotal (e.g. 12.5 for 12.5 %). Defaults to 0. */
  discountPercent?: number;
  /** Sales tax percentage applied after the discount (e.g. 8.25). */
  taxPercent: number;
}

export interface InvoiceTotals {
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
}

/**
 * Totals of an invoice, in dollars. Money is exact to the cent, computed in this order:
 *  - each line total is unitPrice × quantity (a whole number of cents, since prices have two decimals);
 *  - subtotal = the sum of the line totals;
 *  - discount = subtotal × discountPercent / 100, rounded half up to the cent;
 *  - tax = (subtotal − discount) × taxPercent / 100, rounded half up to the cent;
 *  - total = subtotal − discount + tax.
 * Every returned amount is a whole number of cents expressed in dollars, such as 0.3 or 12.05 (never
 * 0.30000000000000004 or 12.049999999999999).
 */
export function invoiceTotals(invoice: Invoice): InvoiceTotals {
  let subtotal = 0n;
  for (const { unitPrice, quantity } of invoice.items) subtotal += decimalToScaled(unitPrice, 2) * BigInt(quantity);
  const discount = roundedShare(subtotal, invoice.discountPercent ?? 0);
  const tax = roundedShare(subtotal - discount, invoice.taxPercent);
  const total = subtotal - discount + tax;
  return { subtotal: dollars(subtotal), discount: dollars(discount), tax: dollars(tax), total: dollars(total) };
}

// The decimal written for `value` (its shortest round-trip form, e.g. "8.45"), times 10^digits, exactly.
function decimalToScaled(value: number, digits: number): bigint {
  const [whole, fraction = ""] = value.toFixed(Math.max(digits, 10)).split(".");
  const kept = fraction.slice(0, digits).padEnd(digits, "0");
  const rest = fraction.slice(digits).replace(/0+$/, "");
  if (rest !== "") throw new RangeError(`${value} has more than ${digits} decimals`);
  return BigInt(whole + kept);
}

// cents × percent / 100, rounded half up; percentages with up to six decimals are exact.
function roundedShare(cents: bigint, percent: number): bigint {
  const scaledPercent = decimalToScaled(percent, 6);
  const denominator = 100n * 1_000_000n;
  return (cents * scaledPercent * 2n + denominator) / (2n * denominator);
}

function dollars(cents: bigint): number {
  return Number(cents) / 100;
}

/** "$1,234.50" style, for amounts that are whole cents; negative amounts as "-$3.00". */
export function formatMoney(amount: number): string {
  const sign = amount < 0 ? "-" : "";
  const cents = Math.round(Math.abs(amount) * 100);
  const dollars = Math.floor(cents / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}$${dollars}.${(cents % 100).toString().padStart(2, "0")}`;
}
