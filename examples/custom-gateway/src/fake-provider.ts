/**
 * "Acme Pay": a tiny payment provider on 127.0.0.1, so the example gateway has a real HTTP API to
 * talk to. It speaks JSON, requires `Authorization: Bearer <apiKey>`, honours an `Idempotency-Key`
 * header on every POST (same key → the first answer again), and signs its webhooks with
 * HMAC-SHA256 (`Acme-Signature: t=<unix seconds>,v1=<hex of HMAC(secret, "<t>.<raw body>")>`).
 *
 * Every charge waits for the customer (`pending` with a `pay_url`); {@link FakeProvider.complete}
 * plays the customer's approval or decline.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hmacSha256 } from '@tender/core';

/** A charge as the provider's API shows it. Amounts are integers in minor units. */
export interface AcmeCharge {
  id: string;
  reference: string;
  amount: number;
  currency: string;
  capture: boolean;
  status: 'pending' | 'authorized' | 'succeeded' | 'declined' | 'canceled';
  amount_captured: number;
  pay_url: string;
  decline_code: string | null;
  refunds: AcmeRefund[];
}

export interface AcmeRefund {
  id: string;
  charge: string;
  amount: number;
  status: 'succeeded';
  /** The merchant's refund id, echoed back. */
  reference: string;
}

export interface FakeProvider {
  url: string;
  apiKey: string;
  webhookSecret: string;
  /** The customer approves or declines a pending charge. */
  complete(chargeId: string, outcome: 'approve' | 'decline'): void;
  /** Signs an event about a charge and POSTs it to `url`, as the provider does after a change. */
  sendWebhook(url: string, chargeId: string): Promise<number>;
  charges: ReadonlyMap<string, AcmeCharge>;
  close(): Promise<void>;
}

/** Signs a webhook body the way Acme Pay does. */
export function signAcmeWebhook(secret: string, body: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${hmacSha256(secret, [`${t}.`, body])}`;
}

export async function startFakeProvider(options: { apiKey?: string; webhookSecret?: string } = {}): Promise<FakeProvider> {
  const apiKey = options.apiKey ?? 'acme_test_key';
  const webhookSecret = options.webhookSecret ?? 'acme_whsec_test';
  const charges = new Map<string, AcmeCharge>();
  const replies = new Map<string, { request: string; status: number; body: unknown }>();
  let seq = 0;
  let url = '';

  function handle(method: string, path: string, query: URLSearchParams, body: Record<string, unknown>): [number, unknown] {
    const parts = path.split('/').filter(Boolean); // ['v1', 'charges', id?, action?]
    if (parts[0] !== 'v1' || parts[1] !== 'charges') return [404, { error: 'no_route' }];
    if (method === 'GET' && parts.length === 2) {
      const reference = query.get('reference');
      return [200, { data: [...charges.values()].filter((c) => c.reference === reference) }];
    }
    if (method === 'POST' && parts.length === 2) {
      const { amount, currency, reference, capture } = body;
      if (!Number.isSafeInteger(amount) || (amount as number) <= 0 || typeof currency !== 'string' || typeof reference !== 'string') {
        return [400, { error: 'invalid_request', message: 'amount, currency and reference are required' }];
      }
      const id = `ch_${++seq}`;
      const charge: AcmeCharge = {
        id, reference, amount: amount as number, currency, capture: capture !== false, status: 'pending',
        amount_captured: 0, pay_url: `${url}/pay/${id}`, decline_code: null, refunds: [],
      };
      charges.set(id, charge);
      return [201, charge];
    }
    const charge = charges.get(parts[2] ?? '');
    if (!charge) return [404, { error: 'not_found', message: 'no such charge' }];
    if (method === 'GET' && parts.length === 3) return [200, charge];
    if (method !== 'POST') return [404, { error: 'no_route' }];
    switch (parts[3]) {
      case 'capture': {
        const amount = (body.amount as number | undefined) ?? charge.amount;
        if (charge.status !== 'authorized' || amount > charge.amount) return [409, { error: 'invalid_state', message: `charge is ${charge.status}` }];
        charge.status = 'succeeded';
        charge.amount_captured = amount;
        return [200, charge];
      }
      case 'cancel':
        if (charge.status !== 'pending' && charge.status !== 'authorized') return [409, { error: 'invalid_state', message: `charge is ${charge.status}` }];
        charge.status = 'canceled';
        return [200, charge];
      case 'refunds': {
        const refunded = charge.refunds.reduce((sum, r) => sum + r.amount, 0);
        const amount = body.amount as number;
        if (charge.status !== 'succeeded') return [409, { error: 'invalid_state', message: `charge is ${charge.status}` }];
        if (!Number.isSafeInteger(amount) || amount <= 0 || refunded + amount > charge.amount_captured) return [400, { error: 'amount_too_large' }];
        const refund: AcmeRefund = { id: `re_${++seq}`, charge: charge.id, amount, status: 'succeeded', reference: String(body.reference ?? '') };
        charge.refunds.push(refund);
        return [201, refund];
      }
      default:
        return [404, { error: 'no_route' }];
    }
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const target = new URL(req.url ?? '/', url);
    if (req.headers.authorization !== `Bearer ${apiKey}`) return send(401, { error: 'unauthorized' });
    let body: Record<string, unknown> = {};
    try {
      if (raw) body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return send(400, { error: 'invalid_json' });
    }
    const key = req.method === 'POST' ? req.headers['idempotency-key'] : undefined;
    const fingerprint = `${req.method} ${target.pathname} ${raw}`;
    if (typeof key === 'string') {
      const previous = replies.get(key);
      if (previous) {
        if (previous.request !== fingerprint) return send(422, { error: 'idempotency_key_reused' });
        res.setHeader('idempotent-replayed', 'true');
        return send(previous.status, previous.body);
      }
    }
    const [status, reply] = handle(req.method ?? 'GET', target.pathname, target.searchParams, body);
    if (typeof key === 'string' && status < 500) replies.set(key, { request: fingerprint, status, body: reply });
    send(status, reply);
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    apiKey,
    webhookSecret,
    charges,
    complete(chargeId, outcome) {
      const charge = charges.get(chargeId);
      if (!charge || charge.status !== 'pending') throw new Error(`charge ${chargeId} is not pending`);
      if (outcome === 'decline') {
        charge.status = 'declined';
        charge.decline_code = 'insufficient_funds';
      } else if (charge.capture) {
        charge.status = 'succeeded';
        charge.amount_captured = charge.amount;
      } else {
        charge.status = 'authorized';
      }
    },
    async sendWebhook(to, chargeId) {
      const charge = charges.get(chargeId);
      if (!charge) throw new Error(`no charge ${chargeId}`);
      const body = JSON.stringify({ id: `evt_${++seq}`, type: 'charge.updated', created: Math.floor(Date.now() / 1000), data: charge });
      const response = await fetch(to, { method: 'POST', headers: { 'content-type': 'application/json', 'acme-signature': signAcmeWebhook(webhookSecret, body) }, body });
      await response.text();
      return response.status;
    },
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
