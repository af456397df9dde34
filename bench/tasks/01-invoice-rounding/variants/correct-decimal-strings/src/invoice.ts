// Invoice arithmetic for the billing service.
// Variant (bench check, written apart from solution/): integer cents, percentages read from their decimal digits.

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
  const lineCents = invoice.items.map((item) => Number(item.unitPrice.toFixed(2).replace(".", "")) * item.quantity);
  const subtotal = lineCents.reduce((a, b) => a + b, 0);
  const discount = halfUp(subtotal, invoice.discountPercent ?? 0);
  const tax = halfUp(subtotal - discount, invoice.taxPercent);
  return {
    subtotal: subtotal / 100,
    discount: discount / 100,
    tax: tax / 100,
    total: (subtotal - discount + tax) / 100,
  };
}

/**
 * Rounds cents × percent / 100 half up. The percentage is read from its decimal digits ("8.45" is 845
 * hundredths), so no binary approximation of it enters the product.
 */
function halfUp(cents: number, percent: number): number {
  const text = String(percent);
  const dot = text.indexOf(".");
  const decimals = dot < 0 ? 0 : text.length - dot - 1;
  const digits = Number(text.replace(".", ""));
  const divisor = 100 * 10 ** decimals;
  const product = cents * digits;
  const quotient = Math.floor(product / divisor);
  const remainder = product - quotient * divisor;
  return remainder * 2 >= divisor ? quotient + 1 : quotient;
}

/** "$1,234.50" style, for amounts that are whole cents; negative amounts as "-$3.00". */
export function formatMoney(amount: number): string {
  const sign = amount < 0 ? "-" : "";
  const cents = Math.round(Math.abs(amount) * 100);
  const dollars = Math.floor(cents / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}$${dollars}.${(cents % 100).toString().padStart(2, "0")}`;
}
