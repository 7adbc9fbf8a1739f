// A small spec shared by env.test.ts and env-property.test.ts: three tables with refs, scalars,
// a per-record and a whole-state invariant, queries and actions that fail in every way a call
// can fail (some after they have already written).
import { loadDefinition } from "../../compiler/load.js";
import { Environment, parseJsonOrdered, type EnvOptions } from "../../runtime/index.js";
import { mustCheck } from "../helpers.js";

export const SPEC = `env Shop "Tiny shop"
"""A shop with customers, items and orders."""

enum Status { open, closed }

entity Customer key customer_id {
  customer_id: string
  name: string
  credit: int = 0
}

entity Item key item_id {
  item_id: string
  name: string
  price: int
  stock: int
}

entity Order key order_id {
  order_id: string
  customer_id: ref Customer
  item_id: ref Item
  qty: int
  status: Status = open
}

state {
  customers: table Customer
  items: table Item
  orders: table Order
  today: date
  divisor: int = 1
}

invariant stock_nonneg "Stock is never negative": all i in items: i.stock >= 0
invariant credit_cap "Total credit stays under 1000": customers.sum(c => c.credit) <= 1000

query get_item(item_id: string) -> Item "Look up an item." {
  let i = items[item_id] else "Item not found"
  return i
}

query list_orders(customer_id: string) -> list<Order> "A customer's orders." {
  require customer_id in customers else "Customer not found"
  return orders.filter(o => o.customer_id == customer_id)
}

query raw_item(item_id: string) -> Item "Look up an item without a check." {
  return items[item_id]
}

query ratio(a: int, b: int) -> number "Divide." {
  return a / b
}

action place_order(customer_id: string, item_id: string, qty: int = 1) -> Order "Order an item." {
  require customer_id in customers else "Customer not found"
  let i = items[item_id] else "Item not found"
  require qty > 0 else "Quantity must be positive"
  require i.stock >= qty else "Only \${i.stock} of \${i.name} left"
  i.stock -= qty
  let o = insert orders { order_id: new_id("O"), customer_id, item_id, qty }
  ensure o.order_id in orders
  return o
}

action cancel_order(order_id: string) -> Order "Cancel an open order." {
  let o = orders[order_id] else "Order not found"
  require o.status == open else "Order \${order_id} is already closed"
  o.status = closed
  let i = items[o.item_id] else "Item not found"
  i.stock += o.qty
  return o
}

action delete_order(order_id: string) "Forget an order." {
  require order_id in orders else "Order not found"
  delete orders[order_id]
}

action add_item(item_id: string, name: string, price: int, stock: int = 0) -> Item "Add an item." {
  let i = insert items { item_id, name, price, stock }
  return i
}

action remove_item(item_id: string) "Remove an item (no check that it exists)." {
  delete items[item_id]
}

action restock(item_id: string, qty: int) -> Item "Change the stock (may break an invariant)." {
  let i = items[item_id] else "Item not found"
  i.stock += qty
  return i
}

action give_credit(customer_id: string, amount: int) "Give credit (may break an invariant)." {
  let c = customers[customer_id] else "Customer not found"
  c.credit += amount
}

action reassign(order_id: string, customer_id: string) "Move an order (may leave a dangling ref)." {
  let o = orders[order_id] else "Order not found"
  o.customer_id = customer_id
}

action rename(customer_id: string, name: string) "Rename (ensure: not empty)." {
  let c = customers[customer_id] else "Customer not found"
  c.name = name
  ensure c.name != ""
}

action split(item_id: string, parts: int) -> number "Writes, then divides." {
  let i = items[item_id] else "Item not found"
  i.price += 1
  divisor = parts
  return i.price / parts
}

action move_to_end(item_id: string, max_price: int = 100) -> Item "Delete and re-insert, then check." {
  let i = items[item_id] else "Item not found"
  delete items[item_id]
  let j = insert items { item_id: i.item_id, name: i.name, price: i.price, stock: i.stock }
  require j.price <= max_price else "Price \${j.price} is over \${max_price}"
  return j
}

action requeue(item_id: string, bump: int = 0) -> Item "Delete a record and insert the same record again, then change it." {
  let i = items[item_id] else "Item not found"
  delete items[item_id]
  insert items i
  if bump != 0 {
    let j = items[item_id] else "Item vanished"
    j.stock += bump
  }
  return items[item_id]
}

action close_shop(reason: string) "Always fails." {
  fail "Closed: \${reason}"
}

action make_ids(prefix: string, n: int) -> list<string> "Draw ids." {
  require n >= 0 and n <= 20 else "n must be 0 to 20"
  let out: list<string> = []
  for k in range(n) {
    out.append(new_id(prefix))
  }
  return out
}

action ids_then_fail(prefix: string) "Draw an id, then fail." {
  let a = new_id(prefix)
  fail "Made \${a}"
}

action advance(days: int) -> date "Move the clock." {
  require days >= 0 and days <= 1000 else "days must be 0 to 1000"
  today = date_add(today, days)
  return today
}
`;

export const SPEC_FILE = "test.env";
export const DEF = loadDefinition(mustCheck(SPEC, SPEC_FILE));

/** Parameters per tool (name, required), for generating calls. */
export const PARAMS: Record<string, [string, boolean][]> = {
  get_item: [["item_id", true]],
  list_orders: [["customer_id", true]],
  raw_item: [["item_id", true]],
  ratio: [["a", true], ["b", true]],
  place_order: [["customer_id", true], ["item_id", true], ["qty", false]],
  cancel_order: [["order_id", true]],
  delete_order: [["order_id", true]],
  add_item: [["item_id", true], ["name", true], ["price", true], ["stock", false]],
  remove_item: [["item_id", true]],
  restock: [["item_id", true], ["qty", true]],
  give_credit: [["customer_id", true], ["amount", true]],
  reassign: [["order_id", true], ["customer_id", true]],
  rename: [["customer_id", true], ["name", true]],
  split: [["item_id", true], ["parts", true]],
  move_to_end: [["item_id", true], ["max_price", false]],
  requeue: [["item_id", true], ["bump", false]],
  close_shop: [["reason", true]],
  make_ids: [["prefix", true], ["n", true]],
  ids_then_fail: [["prefix", true]],
  advance: [["days", true]],
};
export const QUERIES = ["get_item", "list_orders", "raw_item", "ratio"];

/**
 * A valid initial state, parsed from JSON text so that the table order is the text's order:
 * "10" and "2" are keys that a JS object literal would put first.
 */
export function state(): Record<string, any> {
  return parseJsonOrdered(`{
    "customers": {
      "C1": { "customer_id": "C1", "name": "Ann" },
      "C2": { "customer_id": "C2", "name": "Bob", "credit": 100 }
    },
    "items": {
      "I1": { "item_id": "I1", "name": "Pen", "price": 2, "stock": 3 },
      "10": { "item_id": "10", "name": "Ink", "price": 150, "stock": 5 },
      "2": { "item_id": "2", "name": "Pad", "price": 4, "stock": 0 }
    },
    "orders": {
      "O_1": { "order_id": "O_1", "customer_id": "C1", "item_id": "I1", "qty": 1, "status": "closed" },
      "P1": { "order_id": "P1", "customer_id": "C2", "item_id": "10", "qty": 2 }
    },
    "today": "2024-01-01"
  }`) as Record<string, any>;
}

export function make(initial: unknown = state(), options: EnvOptions = {}): Environment {
  return Environment.createFrom(DEF, initial, options);
}

/** `test.env:line:col` of `col` (default: the line text itself) on the first line containing `line`. */
export function loc(line: string, col = line): string {
  const lines = SPEC.split("\n");
  const i = lines.findIndex((l) => l.includes(line));
  if (i < 0) throw new Error(`no line with ${line}`);
  const c = lines[i]!.indexOf(col);
  if (c < 0) throw new Error(`no ${col} on line ${i + 1}`);
  return `${SPEC_FILE}:${i + 1}:${c + 1}`;
}
