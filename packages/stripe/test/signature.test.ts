import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { TenderError } from '@tender/core';
import { createStripeGateway, signStripePayload, STRIPE_API_VERSION, verifyStripeSignature } from '@tender/stripe';

const secret = 'whsec_test_secret';
const compact = '{"id":"evt_test_webhook","object":"event"}';
const pretty = JSON.stringify({ id: 'evt_test_webhook', object: 'event' }, null, 2);
const at = (t: number) => new Date(t * 1000);
const stripe = new Stripe('sk_test_unused');

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(TenderError.isInstance(error)).toBe(true);
    expect((error as TenderError).type).toBe('webhook_signature_error');
    return (error as TenderError).code;
  }
  throw new Error('expected a signature error');
}

// Vectors computed with node:crypto and `openssl dgst -sha256 -hmac` (they agree), for the secret and payload
// stripe-node's own test/Webhook.spec.ts uses; Stripe publishes no fixed triple.
describe('Stripe-Signature (computed vectors)', () => {
  it('computes the published v1 vectors', () => {
    expect(signStripePayload({ payload: compact, secret, timestamp: 1700000000 })).toBe(
      't=1700000000,v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990',
    );
    expect(signStripePayload({ payload: pretty, secret, timestamp: 1700000000 })).toBe(
      't=1700000000,v1=4f1cd7feda9826e746b7d482c4badebb657398df1099e1046364f6196a230150',
    );
  });

  it('accepts the vectors on raw bytes, with a v0 and several v1 entries present', () => {
    const body = new TextEncoder().encode(compact);
    const header = 't=1700000000,v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990';
    expect(verifyStripeSignature(body, header, secret, { now: at(1700000100) })).toEqual({ timestamp: 1700000000 });
    const rolled = `t=1700000000,v1=${'0'.repeat(64)},v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39`;
    expect(() => verifyStripeSignature(body, rolled, secret, { now: at(1700000000) })).not.toThrow();
  });

  it('accepts headers made by stripe-node generateTestHeaderString, and stripe-node accepts ours', () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const header = stripe.webhooks.generateTestHeaderString({ payload: pretty, secret, timestamp });
    expect(() => verifyStripeSignature(Buffer.from(pretty), header, secret)).not.toThrow();
    const ours = signStripePayload({ payload: pretty, secret, timestamp });
    expect(ours).toBe(header);
    expect(stripe.webhooks.constructEvent(pretty, ours, secret).id).toBe('evt_test_webhook');
  });

  it('accepts any of several configured secrets (secret roll)', () => {
    const header = signStripePayload({ payload: compact, secret: 'whsec_new', timestamp: 1700000000 });
    expect(() => verifyStripeSignature(compact, header, ['whsec_old', 'whsec_new'], { now: at(1700000000) })).not.toThrow();
  });

  it('rejects with a clear kind: missing header, no v1, malformed, tampered, wrong secret, stale', () => {
    const now = at(1700000000);
    const good = signStripePayload({ payload: compact, secret, timestamp: 1700000000 });
    expect(codeOf(() => verifyStripeSignature(compact, undefined, secret, { now }))).toBe('missing_signature_header');
    expect(codeOf(() => verifyStripeSignature(compact, '', secret, { now }))).toBe('missing_signature_header');
    expect(codeOf(() => verifyStripeSignature(compact, 't=1700000000,v0=abc', secret, { now }))).toBe('no_v1_signature');
    expect(codeOf(() => verifyStripeSignature(compact, 'v1=abc', secret, { now }))).toBe('malformed_signature_header');
    expect(codeOf(() => verifyStripeSignature(compact.replace('event', 'evenT'), good, secret, { now }))).toBe('signature_mismatch');
    expect(codeOf(() => verifyStripeSignature(`${compact} `, good, secret, { now }))).toBe('signature_mismatch');
    expect(codeOf(() => verifyStripeSignature(compact, good, 'whsec_wrong', { now }))).toBe('signature_mismatch');
    expect(codeOf(() => verifyStripeSignature(compact, good.toUpperCase().replace('T=', 't=').replace('V1=', 'v1='), secret, { now }))).toBe('signature_mismatch');
    expect(codeOf(() => verifyStripeSignature(compact, good, secret, { now: at(1700000301) }))).toBe('timestamp_outside_tolerance');
    // The signature is checked first, as stripe-node does: a stale forgery is a mismatch.
    expect(codeOf(() => verifyStripeSignature(compact, good, 'whsec_wrong', { now: at(1800000000) }))).toBe('signature_mismatch');
  });

  it('applies the tolerance like stripe-node: 300 s by default, configurable, future timestamps allowed', () => {
    const good = signStripePayload({ payload: compact, secret, timestamp: 1700000000 });
    expect(() => verifyStripeSignature(compact, good, secret, { now: at(1700000300) })).not.toThrow();
    expect(() => verifyStripeSignature(compact, good, secret, { now: at(1699990000) })).not.toThrow();
    expect(codeOf(() => verifyStripeSignature(compact, good, secret, { now: at(1700000061), toleranceSeconds: 60 }))).toBe('timestamp_outside_tolerance');
    expect(() => verifyStripeSignature(compact, good, secret, { now: at(1900000000), toleranceSeconds: 0 })).not.toThrow();
  });

  it('gateway.verifyWebhook checks the stripe-signature header on raw bytes with the configured tolerance', () => {
    const gateway = createStripeGateway({ secretKey: 'sk_test_x', webhookSecret: secret, webhookToleranceSeconds: 10, transport: {} as never });
    const header = signStripePayload({ payload: pretty, secret, timestamp: 1700000000 });
    const rawBody = new TextEncoder().encode(pretty);
    expect(() => gateway.verifyWebhook({ headers: { 'stripe-signature': header }, rawBody }, at(1700000005))).not.toThrow();
    expect(codeOf(() => gateway.verifyWebhook({ headers: { 'stripe-signature': header }, rawBody }, at(1700000011)))).toBe('timestamp_outside_tolerance');
    expect(codeOf(() => gateway.verifyWebhook({ headers: {}, rawBody }, at(1700000005)))).toBe('missing_signature_header');
  });
});

describe('clientConfig', () => {
  it('hands Stripe.js the publishable key and pinned version, and only when configured', () => {
    const withKey = createStripeGateway({ secretKey: 'sk_test_x', publishableKey: 'pk_test_x', transport: {} as never });
    expect(withKey.clientConfig!({})).toEqual({ gateway: 'stripe', params: { publishableKey: 'pk_test_x', apiVersion: STRIPE_API_VERSION } });
    expect(STRIPE_API_VERSION).toBe(Stripe.API_VERSION);
    expect(JSON.stringify(withKey.clientConfig!({}))).not.toContain('sk_test_x');
    const without = createStripeGateway({ secretKey: 'sk_test_x', transport: {} as never });
    expect(() => without.clientConfig!({})).toThrow(TenderError);
  });
});
