export type OrderStatus = "paid" | "refunded" | "pending";

export interface Order {
  id: string;
  customer: string;
  region: string;
  amountCents: number;
  status: OrderStatus;
}
