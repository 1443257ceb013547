/**
 * Every object the sandbox returns, in responses and in webhooks, has every property the installed
 * `stripe` package's TypeScript declarations mark as always present (not `?`), and is `null` only
 * where the declared type allows `null`. The declarations are read with the TypeScript compiler API,
 * so upgrading `stripe` re-checks the sandbox against the new API version's shapes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Stripe from 'stripe';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, startBillingHarness, type BillingHarness } from './billing-harness';

/** The installed `stripe` package's directory and version (its exports hide `package.json`, so walk up from its entry). */
function installedStripe(): { dir: string; version: string } {
  let dir = dirname(createRequire(import.meta.url).resolve('stripe'));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'stripe' && pkg.version) return { dir, version: pkg.version };
    }
    if (dirname(dir) === dir) throw new Error('stripe package not found');
    dir = dirname(dir);
  }
}
const { dir: stripeDir, version: stripeVersion } = installedStripe();
const resources = join(stripeDir, 'esm', 'resources');

/** Stripe `object` value → the declaration file and interface describing it. */
const DECLARATIONS: Record<string, { file: string; name: string }> = {
  balance_transaction: { file: 'BalanceTransactions.d.ts', name: 'BalanceTransaction' },
  charge: { file: 'Charges.d.ts', name: 'Charge' },
  customer: { file: 'Customers.d.ts', name: 'Customer' },
  dispute: { file: 'Disputes.d.ts', name: 'Dispute' },
  event: { file: 'Events.d.ts', name: 'EventBase' },
  invoice: { file: 'Invoices.d.ts', name: 'Invoice' },
  invoice_payment: { file: 'InvoicePayments.d.ts', name: 'InvoicePayment' },
  line_item: { file: 'InvoiceLineItems.d.ts', name: 'InvoiceLineItem' },
  payment_intent: { file: 'PaymentIntents.d.ts', name: 'PaymentIntent' },
  payment_method: { file: 'PaymentMethods.d.ts', name: 'PaymentMethod' },
  plan: { file: 'Plans.d.ts', name: 'Plan' },
  price: { file: 'Prices.d.ts', name: 'Price' },
  product: { file: 'Products.d.ts', name: 'Product' },
  refund: { file: 'Refunds.d.ts', name: 'Refund' },
  setup_intent: { file: 'SetupIntents.d.ts', name: 'SetupIntent' },
  subscription: { file: 'Subscriptions.d.ts', name: 'Subscription' },
  subscription_item: { file: 'SubscriptionItems.d.ts', name: 'SubscriptionItem' },
  'test_helpers.test_clock': { file: join('TestHelpers', 'TestClocks.d.ts'), name: 'TestClock' },
};
/** A deleted object (`{ id, object, deleted: true }`) has its own declaration. */
const DELETED: Record<string, { file: string; name: string }> = {
  customer: { file: 'Customers.d.ts', name: 'DeletedCustomer' },
  'test_helpers.test_clock': { file: join('TestHelpers', 'TestClocks.d.ts'), name: 'DeletedTestClock' },
};

/** A property the declaration says is always present, and the nested shape its object value has (if declared in the same file). */
interface RequiredProperty {
  name: string;
  nullable: boolean;
  /** Marked `?`: need not be there, but when it is, its nested shape is checked. */
  optional: boolean;
  /** Key of the nested interface (`Invoice.StatusTransitions`) for object values, or of array elements. */
  shape?: string;
}

/** Interfaces of a declaration file by qualified name (`Invoice`, `Invoice.StatusTransitions`, ...). */
const files = new Map<string, Map<string, { declaration: ts.InterfaceDeclaration; scope: string[]; source: ts.SourceFile }>>();

function interfacesOf(file: string) {
  let index = files.get(file);
  if (index) return index;
  const path = join(resources, file);
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  index = new Map();
  const visit = (statements: readonly ts.Statement[], scope: string[]) => {
    for (const statement of statements) {
      if (ts.isInterfaceDeclaration(statement)) index!.set([...scope, statement.name.text].join('.'), { declaration: statement, scope, source });
      if (ts.isModuleDeclaration(statement) && statement.body && ts.isModuleBlock(statement.body)) visit(statement.body.statements, [...scope, statement.name.text]);
    }
  };
  visit(source.statements, []);
  files.set(file, index);
  return index;
}

/** The interface a type names, looked up from the innermost enclosing namespace outwards. */
function resolve(file: string, scope: string[], type: ts.TypeNode | undefined): string | undefined {
  if (!type) return undefined;
  if (ts.isParenthesizedTypeNode(type)) return resolve(file, scope, type.type);
  if (ts.isArrayTypeNode(type)) return resolve(file, scope, type.elementType);
  if (ts.isUnionTypeNode(type)) {
    const found = type.types.map((t) => resolve(file, scope, t)).filter((k): k is string => k !== undefined);
    return found.length === 1 ? found[0] : undefined;
  }
  if (ts.isTypeReferenceNode(type)) {
    const name = type.typeName.getText();
    if (name === 'Array' && type.typeArguments?.length === 1) return resolve(file, scope, type.typeArguments[0]);
    const index = interfacesOf(file);
    for (let depth = scope.length; depth >= 0; depth--) {
      const key = [...scope.slice(0, depth), name].join('.');
      // Top-level interfaces of other resources (Customer, Charge...) are checked by their own `object`.
      if (index.has(key) && key.includes('.')) return key;
    }
  }
  return undefined;
}

/** The non-optional properties of interface `key` in `file`, read from the declaration's syntax tree. */
function requiredProperties(file: string, key: string): RequiredProperty[] {
  const entry = interfacesOf(file).get(key);
  if (!entry) throw new Error(`stripe ${stripeVersion}: no interface ${key} in ${file}`);
  const { declaration, scope, source } = entry;
  // Inherited members would be missed by reading members alone; none of these declarations extend another.
  expect(declaration.heritageClauses ?? [], `${key} extends another interface`).toEqual([]);
  const inner = [...scope, declaration.name.text];
  return declaration.members
    .filter(ts.isPropertySignature)
    .map((m) => {
      const shape = resolve(file, inner, m.type);
      return { name: m.name.getText(source), nullable: allowsNull(m.type), optional: m.questionToken !== undefined, ...(shape ? { shape } : {}) };
    })
    .filter((p) => !p.optional || p.shape !== undefined);
}

function allowsNull(type: ts.TypeNode | undefined): boolean {
  if (!type) return true;
  if (ts.isParenthesizedTypeNode(type)) return allowsNull(type.type);
  if (ts.isLiteralTypeNode(type)) return type.literal.kind === ts.SyntaxKind.NullKeyword;
  if (ts.isUnionTypeNode(type)) return type.types.some(allowsNull);
  return false;
}

const cache = new Map<string, RequiredProperty[]>();
function propertiesOf(file: string, key: string): RequiredProperty[] {
  const id = `${file}:${key}`;
  if (!cache.has(id)) cache.set(id, requiredProperties(file, key));
  return cache.get(id)!;
}

/** Problems found, as `Type.property: what` (with where the object was). */
const problems = new Set<string>();
/** How many objects of each declaration were checked. */
const checked = new Map<string, number>();

/** Checks `value` against interface `key` of `file`, then every property with a declared nested shape. */
function checkShape(object: Record<string, unknown>, file: string, key: string, where: string): void {
  for (const property of propertiesOf(file, key)) {
    const value = object[property.name];
    if (property.optional && (value === undefined || value === null)) continue;
    if (!(property.name in object) || value === undefined) problems.add(`${key}.${property.name}: missing (${where})`);
    else if (value === null && !property.nullable) problems.add(`${key}.${property.name}: null but not nullable (${where})`);
    else if (property.shape && value !== null && typeof value === 'object') {
      const items = Array.isArray(value) ? value : [value];
      for (const item of items) if (item !== null && typeof item === 'object' && !Array.isArray(item) && !('object' in item)) checkShape(item as Record<string, unknown>, file, property.shape, `${where}.${property.name}`);
    }
  }
}

/** Checks `value` and every Stripe object nested in it. */
function check(value: unknown, where: string): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => check(v, `${where}[${i}]`));
    return;
  }
  const object = value as Record<string, unknown>;
  const kind = typeof object.object === 'string' ? object.object : null;
  const ref = kind ? (object.deleted === true ? DELETED[kind] : DECLARATIONS[kind]) : undefined;
  if (ref) {
    checked.set(ref.name, (checked.get(ref.name) ?? 0) + 1);
    checkShape(object, ref.file, ref.name, where);
  }
  for (const [key, nested] of Object.entries(object)) if (key !== 'lastResponse') check(nested, `${where}.${key}`);
}

let h: BillingHarness;
let stripe: Stripe;
const T0 = Date.UTC(2032, 5, 1) / 1000;

/** Keeps a response for checking and hands it back. */
function seen<T>(value: T): T {
  check(value, 'response');
  return value;
}

beforeAll(async () => {
  h = await startBillingHarness();
  stripe = h.stripe;
});

afterAll(async () => {
  await h?.close();
});

describe(`sandbox objects against stripe ${stripeVersion}'s declarations`, () => {
  it('reads the declarations of the installed, latest-major stripe', () => {
    expect(Number(stripeVersion.split('.')[0])).toBeGreaterThanOrEqual(23);
    const invoice = requiredProperties('Invoices.d.ts', 'Invoice');
    expect(invoice.find((p) => p.name === 'amount_due')).toEqual({ name: 'amount_due', nullable: false, optional: false });
    expect(invoice.find((p) => p.name === 'status')).toEqual({ name: 'status', nullable: true, optional: false });
    expect(invoice.find((p) => p.name === 'status_transitions')).toEqual({ name: 'status_transitions', nullable: false, optional: false, shape: 'Invoice.StatusTransitions' });
    // Optional scalars are not required; only optional objects are kept, to check their insides when present.
    expect(invoice.some((p) => p.name === 'hosted_invoice_url')).toBe(false);
    expect(requiredProperties('PaymentMethods.d.ts', 'PaymentMethod').find((p) => p.name === 'card')).toMatchObject({ optional: true, shape: 'PaymentMethod.Card' });
  });

  it('payments, refunds and disputes are complete', async () => {
    seen(await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' }));
    const paid = seen(await stripe.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }));
    seen(await stripe.charges.retrieve(paid.latest_charge as string));
    seen(await stripe.refunds.create({ payment_intent: paid.id, amount: 500 }));
    seen(await stripe.refunds.list({ payment_intent: paid.id }));
    const declined = await stripe.paymentIntents.create({ amount: 700, currency: 'usd', payment_method: 'pm_card_chargeDeclined', confirm: true }).catch((e: Stripe.errors.StripeError) => e);
    seen((declined as Stripe.errors.StripeCardError).payment_intent);
    const manual = seen(await stripe.paymentIntents.create({ amount: 900, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, capture_method: 'manual' }));
    seen(await stripe.paymentIntents.capture(manual.id));
    seen(await stripe.paymentIntents.cancel(seen(await stripe.paymentIntents.create({ amount: 900, currency: 'usd' })).id));
    h.sandbox.dashboard.dispute(paid.id);
    await h.event((e) => e.type === 'charge.dispute.created', 'charge.dispute.created');
    // Charges, refunds and the dispute's withdrawal, each source expanded (a charge, a refund, a dispute).
    const balance = seen(await stripe.balanceTransactions.list({ limit: 100, expand: ['data.source'] }));
    expect(new Set(balance.data.map((t) => t.type))).toEqual(new Set(['charge', 'refund', 'adjustment']));
    seen(await stripe.balanceTransactions.retrieve(balance.data[0]!.id, { expand: ['source'] }));
  });

  it('billing objects are complete through a whole subscription life', async () => {
    const clock = seen(await stripe.testHelpers.testClocks.create({ frozen_time: T0 }));
    const customer = seen(await stripe.customers.create({ email: 'complete@example.com', test_clock: clock.id }));
    const si = seen(await stripe.setupIntents.create({ customer: customer.id, payment_method: 'pm_card_visa', confirm: true }));
    seen(await stripe.setupIntents.retrieve(si.id));
    const pm = si.payment_method as string;
    seen(await stripe.paymentMethods.retrieve(pm));
    seen(await stripe.paymentMethods.list({ customer: customer.id }));
    seen(await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm } }));
    seen(await stripe.customers.list());
    seen(await stripe.paymentIntents.create({ amount: 1200, currency: 'usd', customer: customer.id, payment_method: pm, off_session: true, confirm: true }));
    const product = seen(await stripe.products.create({ name: 'Complete' }));
    seen(await stripe.products.list());
    const price = seen(await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 1500, recurring: { interval: 'month' } }));
    seen(await stripe.prices.list());
    const sub = seen(await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], trial_period_days: 14, expand: ['latest_invoice', 'customer', 'default_payment_method'] }));
    seen(await h.advance(clock.id, T0 + 14 * DAY + 2 * 3600));
    const renewed = seen(await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice.payments.data.payment.payment_intent'] }));
    seen(await stripe.invoices.list({ customer: customer.id }));
    seen(await stripe.invoices.listLineItems((renewed.latest_invoice as Stripe.Invoice).id));
    seen(await stripe.subscriptions.list({ customer: customer.id }));
    seen(await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true }));
    seen(await stripe.testHelpers.testClocks.list());
    const failing = seen(await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id }));
    const second = seen(await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], trial_period_days: 1, default_payment_method: failing.id }));
    seen(await h.advance(clock.id, T0 + 16 * DAY));
    const open = seen(await stripe.invoices.retrieve((seen(await stripe.subscriptions.retrieve(second.id)).latest_invoice as string)));
    expect(open.status).toBe('open');
    seen(await stripe.paymentMethods.detach(failing.id));
    seen(await stripe.subscriptions.cancel(second.id));
    seen(await stripe.customers.del(seen(await stripe.customers.create({})).id));
    seen(await stripe.testHelpers.testClocks.del(seen(await stripe.testHelpers.testClocks.create({ frozen_time: T0 })).id));
    await h.event((e) => e.type === 'customer.subscription.deleted' && e.data.object.id === second.id, 'customer.subscription.deleted');
  });

  it('every object in every response and webhook has its declared properties', async () => {
    await h.sandbox.webhooks.idle();
    for (const event of h.received) check(event, `event ${event.type}`);
    expect([...problems].sort()).toEqual([]);
    // Every declaration was exercised at least once.
    expect([...checked.keys()].sort()).toEqual(
      [...Object.values(DECLARATIONS).map((d) => d.name), ...Object.values(DELETED).map((d) => d.name)].sort(),
    );
  });
});
