/**
 * Products and Prices (https://docs.stripe.com/api/products, https://docs.stripe.com/api/prices):
 * enough for subscriptions: per-unit prices, one-time or recurring (`day|week|month|year`, an
 * `interval_count` of at most three years), licensed usage.
 *
 * @module
 */
import { applyMetadata, bool, int, missing, str, stripeId, type RequestInfo } from '../api';
import { invalidRequest, type BillingState, type StripeObject } from './state';

type Params = Record<string, unknown>;

const seconds = () => Math.floor(Date.now() / 1000);

/** `POST /v1/products`. */
export function createProduct(state: BillingState, params: Params, request: RequestInfo | null): StripeObject {
  const name = str(params, 'name');
  if (!name) throw invalidRequest('Missing required param: name.', 'name', 'parameter_missing');
  const id = str(params, 'id') || stripeId('prod', 14);
  if (state.products.has(id)) throw invalidRequest(`Product already exists.`, 'id', 'resource_already_exists');
  const product: StripeObject = {
    id,
    object: 'product',
    active: bool(params, 'active') ?? true,
    created: seconds(),
    default_price: null,
    description: str(params, 'description') || null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: applyMetadata({}, params.metadata),
    name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    tax_details: null,
    type: 'service',
    unit_label: null,
    updated: seconds(),
    url: null,
  };
  state.keep(state.products, product);
  state.emit('product.created', product, request);
  return product;
}

/** `GET /v1/products/:id`. */
export function retrieveProduct(state: BillingState, id: string): StripeObject {
  const product = state.products.get(id);
  if (!product) throw missing('product', id);
  return product;
}

/** `POST /v1/products/:id`: `name`, `description`, `active`, `metadata`. */
export function updateProduct(state: BillingState, id: string, params: Params, request: RequestInfo): StripeObject {
  const product = retrieveProduct(state, id);
  const name = str(params, 'name');
  if (name) product.name = name;
  const description = str(params, 'description');
  if (description !== undefined) product.description = description || null;
  const active = bool(params, 'active');
  if (active !== undefined) product.active = active;
  if (params.metadata !== undefined) product.metadata = applyMetadata(product.metadata as Record<string, string>, params.metadata);
  product.updated = seconds();
  state.emit('product.updated', product, request);
  return product;
}

/** `POST /v1/prices`: `currency`, `unit_amount`, `product` or `product_data[name]`, `recurring[interval|interval_count]`. */
export function createPrice(state: BillingState, params: Params, request: RequestInfo): StripeObject {
  const currency = str(params, 'currency');
  if (!currency) throw invalidRequest('Missing required param: currency.', 'currency', 'parameter_missing');
  if (!/^[a-zA-Z]{3}$/.test(currency)) throw invalidRequest(`Invalid currency: ${currency}.`, 'currency');
  const unitAmount = int(params, 'unit_amount', true)!;
  if (unitAmount < 0) throw invalidRequest('This value must be greater than or equal to 0.', 'unit_amount');
  let productId = str(params, 'product');
  const productData = params.product_data as Params | undefined;
  if (!productId && productData) productId = createProduct(state, productData, request).id;
  if (!productId) throw invalidRequest('Missing required param: product.', 'product', 'parameter_missing');
  retrieveProduct(state, productId);
  const recurringParams = params.recurring as Params | undefined;
  let recurring: Record<string, unknown> | null = null;
  if (recurringParams !== undefined) {
    const interval = str(recurringParams, 'interval');
    if (!interval || !['day', 'week', 'month', 'year'].includes(interval)) throw invalidRequest('Invalid recurring[interval]: must be one of day, week, month, or year', 'recurring[interval]');
    const count = int(recurringParams, 'interval_count') ?? 1;
    const max = { day: 1095, week: 156, month: 36, year: 3 }[interval as 'day' | 'week' | 'month' | 'year'];
    if (count < 1 || count > max) throw invalidRequest(`The maximum billing frequency is 3 years: recurring[interval_count] must be between 1 and ${max} for interval ${interval}.`, 'recurring[interval_count]');
    recurring = { interval, interval_count: count, meter: null, trial_period_days: int(recurringParams, 'trial_period_days') ?? null, usage_type: 'licensed' };
  }
  const id = stripeId('price');
  const price: StripeObject = {
    id,
    object: 'price',
    active: bool(params, 'active') ?? true,
    billing_scheme: 'per_unit',
    created: seconds(),
    currency: currency.toLowerCase(),
    custom_unit_amount: null,
    livemode: false,
    lookup_key: str(params, 'lookup_key') || null,
    metadata: applyMetadata({}, params.metadata),
    nickname: str(params, 'nickname') || null,
    product: productId,
    recurring,
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: recurring ? 'recurring' : 'one_time',
    unit_amount: unitAmount,
    unit_amount_decimal: String(unitAmount),
  };
  state.keep(state.prices, price);
  state.emit('price.created', price, request);
  return price;
}

/** `GET /v1/prices/:id`. */
export function retrievePrice(state: BillingState, id: string, param = 'id'): StripeObject {
  const price = state.prices.get(id);
  if (!price) throw missing('price', id, param);
  return price;
}

/** `GET /v1/prices`: newest first, by `product`, `active`, `type`. */
export function listPrices(state: BillingState, params: Params): StripeObject[] {
  const product = str(params, 'product');
  const active = bool(params, 'active');
  const type = str(params, 'type');
  return [...state.prices.values()].filter((p) => (!product || p.product === product) && (active === undefined || p.active === active) && (!type || p.type === type)).reverse();
}

/** The legacy Plan view of a recurring Price, as SubscriptionItem `plan` shows it. */
export function planOf(price: StripeObject): StripeObject {
  const recurring = price.recurring as Record<string, unknown>;
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: 'per_unit',
    created: price.created,
    currency: price.currency,
    interval: recurring.interval,
    interval_count: recurring.interval_count,
    livemode: false,
    metadata: price.metadata,
    meter: null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: recurring.trial_period_days ?? null,
    usage_type: 'licensed',
  };
}
