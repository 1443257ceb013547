/**
 * Gateway selection: an explicit `gateway`, else the first routing rule that matches the currency and
 * payment method, else every configured gateway in order; always filtered by declared capabilities.
 * The result is an ordered list: the engine fails over along it only while a request certainly never
 * left (circuit open, connection refused).
 *
 * @module
 */
import { invalidRequest, type TenderError } from '../errors';
import { Money } from '../money';
import type { CaptureMethod } from '../payment';
import type { GatewayV1 } from '../spec/gateway/v1/index';

/** Sends matching payments to `gateways`, in that order of preference. */
export interface RoutingRule {
  /** ISO 4217 codes this rule applies to; any when omitted. */
  currencies?: readonly string[];
  /** Payment method names this rule applies to; any when omitted. */
  paymentMethods?: readonly string[];
  gateways: readonly string[];
}

/** True when a declared method list accepts `method`; an entry ending in `*` matches by prefix (`FIUU:*`). */
function acceptsMethod(declared: readonly string[] | '*', method: string): boolean {
  if (declared === '*') return true;
  const upper = method.toUpperCase();
  return declared.some((entry) =>
    entry.endsWith('*') ? upper.startsWith(entry.slice(0, -1).toUpperCase()) : entry === method || entry === upper,
  );
}

/** The gateway's largest amount in `currency`, in minor units, or null when it declares none. */
export function maxAmountMinor(gateway: GatewayV1, currency: string): number | null {
  const max = gateway.capabilities.maxAmountMinor;
  if (max === undefined) return null;
  if (typeof max === 'number') return max;
  return max[currency] ?? max['*'] ?? null;
}

function withinLimit(gateway: GatewayV1, amount: Money): boolean {
  const max = maxAmountMinor(gateway, amount.currency);
  // The engine has checked that the amount fits a safe integer of minor units.
  return max === null || amount.toMinor() <= max;
}

function supports(gateway: GatewayV1, currency: string, paymentMethod: string | null, captureMethod: CaptureMethod): boolean {
  const caps = gateway.capabilities;
  if (caps.currencies !== '*' && !caps.currencies.includes(currency)) return false;
  if (paymentMethod !== null && !acceptsMethod(caps.paymentMethods, paymentMethod)) return false;
  if (captureMethod === 'manual' && !caps.manualCapture) return false;
  return true;
}

function tooLarge(gateways: readonly GatewayV1[], amount: Money): TenderError {
  const limits = gateways.map((g) => `${g.id}: ${Money.fromMinor(maxAmountMinor(g, amount.currency)!, amount.currency).toString()}`).join(', ');
  return invalidRequest('amount_too_large', `${amount.toString()} ${amount.currency} is more than the gateway takes (${limits} ${amount.currency})`, 'amount');
}

/** @internal Ordered candidate gateways for a payment. */
export function selectGateways(
  gateways: ReadonlyMap<string, GatewayV1>,
  rules: readonly RoutingRule[],
  request: { gateway?: string | null; amount: Money; paymentMethod: string | null; captureMethod: CaptureMethod },
): GatewayV1[] {
  if (request.gateway) {
    const gateway = gateways.get(request.gateway);
    if (!gateway) throw invalidRequest('unknown_gateway', `Gateway '${request.gateway}' is not configured`, 'gateway');
    if (!supports(gateway, request.amount.currency, request.paymentMethod, request.captureMethod)) {
      throw invalidRequest(
        'gateway_not_supported',
        `Gateway '${gateway.id}' does not support ${request.amount.currency}${request.paymentMethod ? ` with ${request.paymentMethod}` : ''}${request.captureMethod === 'manual' ? ' with manual capture' : ''}`,
        'gateway',
      );
    }
    if (!withinLimit(gateway, request.amount)) throw tooLarge([gateway], request.amount);
    return [gateway];
  }
  const rule = rules.find(
    (r) =>
      (!r.currencies || r.currencies.includes(request.amount.currency)) &&
      (!r.paymentMethods || (request.paymentMethod !== null && r.paymentMethods.map((m) => m.toUpperCase()).includes(request.paymentMethod.toUpperCase()))),
  );
  const ordered = rule ? rule.gateways.map((id) => gateways.get(id)).filter((g): g is GatewayV1 => g !== undefined) : [...gateways.values()];
  const capable = ordered.filter((g) => supports(g, request.amount.currency, request.paymentMethod, request.captureMethod));
  const eligible = capable.filter((g) => withinLimit(g, request.amount));
  if (capable.length > 0 && eligible.length === 0) throw tooLarge(capable, request.amount);
  if (eligible.length === 0) {
    throw invalidRequest(
      'no_eligible_gateway',
      `No configured gateway accepts ${request.amount.currency}${request.paymentMethod ? ` with payment method ${request.paymentMethod}` : ''}`,
      request.paymentMethod ? 'payment_method' : 'currency',
    );
  }
  return eligible;
}
