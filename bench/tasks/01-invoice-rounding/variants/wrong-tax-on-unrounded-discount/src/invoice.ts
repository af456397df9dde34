// Invoice arithmetic for the billing service.
// Variant (bench check): tax computed on the subtotal minus the unrounded discount.

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
  // Integer cents throughout: binary floating point cannot hold most decimal fractions of a dollar.
  const subtotalCents = invoice.items.reduce((sum, item) => sum + toCents(item.unitPrice) * item.quantity, 0);
  const discountCents = percentOfCents(subtotalCents, invoice.discountPercent ?? 0);
  const exactDiscount = (subtotalCents * (invoice.discountPercent ?? 0)) / 100;
  const taxCents = Math.floor(((subtotalCents - exactDiscount) * invoice.taxPercent) / 100 + 0.5);
  const totalCents = subtotalCents - discountCents + taxCents;
  return {
    subtotal: fromCents(subtotalCents),
    discount: fromCents(discountCents),
    tax: fromCents(taxCents),
    total: fromCents(totalCents),
  };
}

function toCents(dollars: number): number {
  return Math.round(dollars * 100);
}

function fromCents(cents: number): number {
  return cents / 100;
}

/** cents × percent / 100, rounded half up, without letting a fraction like 12.5 % lose precision. */
function percentOfCents(cents: number, percent: number): number {
  // Scale the percentage to an integer (up to 4 decimals) so that the product is exact.
  const scale = 10_000;
  const scaledPercent = Math.round(percent * scale);
  const numerator = cents * scaledPercent;
  const denominator = 100 * scale;
  return Math.floor((numerator + denominator / 2) / denominator);
}

/** "$1,234.50" style, for amounts that are whole cents; negative amounts as "-$3.00". */
export function formatMoney(amount: number): string {
  const sign = amount < 0 ? "-" : "";
  const cents = Math.round(Math.abs(amount) * 100);
  const dollars = Math.floor(cents / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}$${dollars}.${(cents % 100).toString().padStart(2, "0")}`;
}
