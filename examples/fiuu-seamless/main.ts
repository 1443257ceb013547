/**
 * Runs the example with no Fiuu account: the Fiuu sandbox on loopback, the engine with an
 * in-memory store, and the checkout server. `pnpm --filter @tender/example-fiuu-seamless start`
 * (build @tender/fiuu first so the IIFE bundle exists).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createTender } from '@tender/core';
import { MemoryStore } from '@tender/core/testing';
import { createFiuuGateway } from '@tender/fiuu';
import { startFiuuSandbox } from '@tender/fiuu/sandbox';
import { startCheckoutServer } from './server';

const merchant = { merchantId: 'SB_demo', verifyKey: 'demo-verify-key-0123456789abcdef', secretKey: 'demo-secret-key-0123456789abcdef' };
const sandbox = await startFiuuSandbox({ merchants: [merchant] });
const gateway = createFiuuGateway({ ...merchant, sandbox: true, paymentHost: sandbox.paymentHost, apiHost: sandbox.apiHost });
const tender = createTender({ gateways: [gateway], store: new MemoryStore() });
const bundle = readFileSync(createRequire(import.meta.url).resolve('@tender/fiuu/browser'), 'utf8');
const server = await startCheckoutServer({ tender, gateway, bundle, port: Number(process.env.PORT ?? 3000) });
console.log(`Fiuu sandbox at ${sandbox.url} (simulation: no real money)`);
console.log(`Checkout page at ${server.url}/`);
