import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ANONYMIZED,
  EncryptionKeyError,
  FieldCipher,
  TenderError,
  applyRetention,
  createEncryptingStore,
  createTender,
  deriveKeyId,
  keyIdOf,
  mapPersonalData,
  parseEncryptionKey,
  parseEncryptionKeys,
  type EncryptionKey,
  type Payment,
  type Store,
} from '@tender/core';
import { MemoryStore, createTestGateway, runStoreConformance, runWebhookEndpointStoreConformance, samplePayment, sampleSavedMethod } from '@tender/core/testing';

const key = (id?: string): EncryptionKey => parseEncryptionKey(`${id ? `${id}:` : ''}${randomBytes(32).toString('base64')}`);

runStoreConformance('EncryptingStore over MemoryStore', async () => {
  const k = key();
  const store = createEncryptingStore(new MemoryStore(), { keys: [k], activeKeyId: k.id });
  return { store, teardown: async () => store.close() };
});

runWebhookEndpointStoreConformance('EncryptingStore over MemoryStore', async () => {
  const k = key();
  const store = createEncryptingStore(new MemoryStore(), { keys: [k], activeKeyId: k.id });
  return { store, teardown: async () => store.close() };
});

const EMAIL = 'distinctive.person.7f3a@example.com';
const NAME = 'Zebulon Quatermain-Okonkwo';
const PHONE = '+60 12-987 6543';

/** Every string anywhere in a value. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) strings(v, out);
  return out;
}

describe('personal data walker', () => {
  it('finds the redaction rules’ personal fields at any depth, customer objects and [name, value] lists, copying on write only', () => {
    const input = {
      id: 'pay_1',
      amount: '10.00',
      customer: { name: 'A', nickname: 'B', nested: { x: 'C' } },
      metadata: { cart: '42', customer_email: 'a@example.com', 'Bill-Mobile': '0123' },
      gatewayData: { customer: 'cus_123', fields: [['bill_name', 'D'], ['amount', '10.00']], deep: { a: { mpsbill_email: 'e@example.com' } } },
      untouched: { list: [1, 2, { note: 'x' }] },
    };
    const frozen = JSON.stringify(input);
    const out = mapPersonalData(input, (text, path) => `<${path.join('.')}>`);
    expect(JSON.stringify(input)).toBe(frozen);
    expect(out).toEqual({
      id: 'pay_1',
      amount: '10.00',
      customer: { name: '<customer.name>', nickname: '<customer.nickname>', nested: { x: '<customer.nested.x>' } },
      metadata: { cart: '42', customer_email: '<metadata.customer_email>', 'Bill-Mobile': '<metadata.Bill-Mobile>' },
      gatewayData: { customer: 'cus_123', fields: [['bill_name', '<gatewayData.fields.0.bill_name>'], ['amount', '10.00']], deep: { a: { mpsbill_email: '<gatewayData.deep.a.mpsbill_email>' } } },
      untouched: { list: [1, 2, { note: 'x' }] },
    });
    expect(out.untouched).toBe(input.untouched);
    const none = { a: { b: 'c' } };
    expect(mapPersonalData(none, () => 'x')).toBe(none);
  });
});

describe('encryption keys', () => {
  it('takes 32 bytes as base64, base64url or hex, with an explicit id or one derived from the key', () => {
    const bytes = randomBytes(32);
    const fromB64 = parseEncryptionKey(bytes.toString('base64'));
    expect(fromB64.id).toBe(deriveKeyId(bytes));
    expect(fromB64.id).toMatch(/^[0-9a-f]{16}$/);
    expect(parseEncryptionKey(bytes.toString('base64url')).id).toBe(fromB64.id);
    expect(parseEncryptionKey(` ${bytes.toString('hex')}\n`).id).toBe(fromB64.id);
    expect(parseEncryptionKey(`2026-q1:${bytes.toString('hex')}`).id).toBe('2026-q1');
    expect(JSON.stringify(fromB64)).not.toContain(bytes.toString('base64'));
    expect(parseEncryptionKeys(`old1:${randomBytes(32).toString('base64')}, old2:${randomBytes(32).toString('hex')}`).map((k) => k.id)).toEqual(['old1', 'old2']);
  });

  it('refuses malformed, short and weak keys, naming the variable and never the value', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      [Buffer.alloc(16, 7).toString('base64'), /decodes to 16 bytes/],
      [randomBytes(33).toString('base64'), /decodes to 33 bytes/],
      [randomBytes(16).toString('hex'), /64 digits, this has 32/],
      ['not a key!!', /characters neither uses/],
      [Buffer.alloc(32).toString('base64'), /all zeros/],
      [Buffer.alloc(32, 0xab).toString('hex'), /one byte repeated/],
      [Buffer.from(Array.from({ length: 32 }, (_, i) => 0xf0 + (i % 4))).toString('base64'), /4-byte pattern/],
      [Buffer.from([...'31415926535897932384626433832795'].map(Number)).toString('base64'), /distinct byte values/],
      [Buffer.from('correct horse battery staple 123').toString('base64'), /printable text/],
      [`bad id!:${randomBytes(32).toString('base64')}`, /key id/],
    ];
    for (const [value, reason] of cases) {
      let error: unknown;
      try {
        parseEncryptionKey(value, 'ENCRYPTION_KEY');
      } catch (e) {
        error = e;
      }
      expect(error, value).toBeInstanceOf(EncryptionKeyError);
      const message = (error as Error).message;
      expect(message).toMatch(/^ENCRYPTION_KEY: /);
      expect(message).toMatch(reason);
      if (value.length > 4) expect(message).not.toContain(value.split(':').pop());
    }
    expect(() => parseEncryptionKeys(`a:${randomBytes(32).toString('base64')},${Buffer.alloc(32).toString('hex')}`)).toThrow(/^ENCRYPTION_KEYS \(entry 2\): /);
    const a = key('same');
    const b = key('same');
    expect(() => new FieldCipher([a, b], 'same')).toThrow(/two different keys have the id 'same'/);
    expect(() => new FieldCipher([a], 'other')).toThrow(/not among the keys/);
  });

  it('uses a fresh nonce per value, keeps the ciphertext of a value written again unchanged, and binds each value to its context', () => {
    const k = key('k1');
    const cipher = new FieldCipher([k], 'k1');
    const one = cipher.encrypt(EMAIL, 'ctx');
    // The same value at the same place again: the ciphertext stored for it (no new encryption).
    expect(cipher.encrypt(EMAIL, 'ctx')).toBe(one);
    // Anything else is a new encryption with its own nonce: another place, another value, another process.
    const others = [cipher.encrypt(EMAIL, 'ctx2'), cipher.encrypt(`${EMAIL}.`, 'ctx'), new FieldCipher([k], 'k1').encrypt(EMAIL, 'ctx')];
    const nonces = new Set([one, ...others].map((c) => Buffer.from(c.split(':')[3]!, 'base64url').subarray(0, 12).toString('hex')));
    expect(nonces.size).toBe(4);
    expect(one).toMatch(/^enc:v1:k1:[A-Za-z0-9_-]+$/);
    expect(keyIdOf(one)).toBe('k1');
    expect(cipher.decrypt(one, 'ctx')).toBe(EMAIL);
    expect(() => cipher.decrypt(one, 'other ctx')).toThrow(expect.objectContaining({ code: 'decryption_failed' }));
  });
});

function setup(store: Store, gateway = createTestGateway({ flow: 'redirect' })) {
  return createTender({ gateways: [gateway], store });
}

const createBody = {
  amount: '100.50',
  currency: 'MYR',
  paymentMethod: 'card',
  orderId: 'ORD-ENC-1',
  customer: { name: NAME, email: EMAIL, phone: PHONE },
  metadata: { cart: '42', customer_email: EMAIL },
};

/** Everything the inner store holds about a payment, as stored. */
async function storedStrings(inner: Store, payment: Payment, idempotencyKey: string): Promise<string[]> {
  const out = strings(await inner.getPayment(payment.id));
  out.push(...strings(await inner.getIdempotencyRecord(payment.merchantId, idempotencyKey)));
  for (const row of await inner.claimOutbox({ limit: 100, now: new Date(Date.now() + 3_600_000).toISOString(), leaseUntil: new Date(Date.now() + 3_600_001).toISOString() })) out.push(...strings(row));
  return out;
}

describe('EncryptingStore', () => {
  it('keeps personal data only as ciphertext in the wrapped store, and reads it back decrypted', async () => {
    const inner = new MemoryStore();
    const k = key('k1');
    const store = createEncryptingStore(inner, { keys: [k], activeKeyId: 'k1' });
    const tender = setup(store);
    const created = await tender.payments.create(createBody, { idempotencyKey: 'enc-1' });
    expect(created.customer).toEqual({ name: NAME, email: EMAIL, phone: PHONE });
    expect(await tender.payments.get(created.id)).toMatchObject({ customer: { email: EMAIL }, metadata: { cart: '42', customer_email: EMAIL } });
    // A replay returns the stored response, decrypted.
    expect((await tender.payments.create(createBody, { idempotencyKey: 'enc-1' })).customer.email).toBe(EMAIL);

    const raw = (await inner.getPayment(created.id))!;
    expect(raw.customer.email).toMatch(/^enc:v1:k1:/);
    expect(raw.metadata.cart).toBe('42');
    expect(raw.metadata.customer_email).toMatch(/^enc:v1:k1:/);
    expect(raw.amount).toBe('100.50');
    const stored = (await storedStrings(inner, created, 'enc-1')).join('\n');
    for (const secret of [EMAIL, NAME, PHONE, 'distinctive.person']) expect(stored).not.toContain(secret);
    // The check would have seen them: without the wrapper they are there.
    const plainInner = new MemoryStore();
    const plain = await setup(plainInner).payments.create(createBody, { idempotencyKey: 'enc-1' });
    expect((await storedStrings(plainInner, plain, 'enc-1')).join('\n')).toContain(EMAIL);
  });

  it("keeps a saved wallet's e-mail only as ciphertext in the wrapped store, card display data in the clear, and reads it back decrypted", async () => {
    const inner = new MemoryStore();
    const k = key('k1');
    const store = createEncryptingStore(inner, { keys: [k], activeKeyId: 'k1' });
    const wallet = sampleSavedMethod({ type: 'paypal', card: null, walletEmail: EMAIL, token: 'B-7YX12345' });
    const card = sampleSavedMethod({ isDefault: true });
    await store.transaction(async (tx) => {
      await tx.insertSavedPaymentMethod(wallet);
      await tx.insertSavedPaymentMethod(card);
      expect(await tx.getSavedPaymentMethod(wallet.id)).toEqual(wallet);
    });

    const raw = (await inner.getSavedPaymentMethod(wallet.id))!;
    expect(raw.walletEmail).toMatch(/^enc:v1:k1:/);
    expect(raw).toEqual({ ...wallet, walletEmail: raw.walletEmail });
    expect(JSON.stringify(await inner.listSavedPaymentMethods({ merchantId: 'm_1', limit: 10 }))).not.toContain('distinctive.person');
    expect(await inner.getSavedPaymentMethod(card.id)).toEqual(card);

    // Every read and every write that returns the method decrypts it.
    expect(await store.getSavedPaymentMethod(wallet.id)).toEqual(wallet);
    expect(await store.findSavedPaymentMethodByToken('m_1', 'test', wallet.token)).toEqual(wallet);
    expect((await store.listSavedPaymentMethods({ merchantId: 'm_1', userId: 'user_1', limit: 10 })).map((m) => m.walletEmail).sort()).toEqual([EMAIL, null]);
    const made = await store.transaction((tx) => tx.setDefaultSavedPaymentMethod('m_1', wallet.id, '2026-03-02T00:00:00.000Z'));
    expect(made).toMatchObject({ walletEmail: EMAIL, isDefault: true });
    const removed = await store.transaction((tx) => tx.removeSavedPaymentMethod('m_1', wallet.id, '2026-03-03T00:00:00.000Z'));
    expect(removed).toMatchObject({ walletEmail: EMAIL, deletedAt: '2026-03-03T00:00:00.000Z' });
    expect((await inner.getSavedPaymentMethod(wallet.id))!.walletEmail).toBe(raw.walletEmail);

    // The ciphertext is bound to its method: moved to another one, it does not decrypt.
    const other = sampleSavedMethod();
    await inner.transaction((tx) => tx.insertSavedPaymentMethod({ ...other, walletEmail: raw.walletEmail }));
    await expect(store.getSavedPaymentMethod(other.id)).rejects.toMatchObject({ code: 'decryption_failed' });
  });

  it('fails loudly, with a typed error and no plaintext, on an altered or moved ciphertext or an unknown key', async () => {
    const inner = new MemoryStore();
    const k = key('k1');
    const store = createEncryptingStore(inner, { keys: [k], activeKeyId: 'k1' });
    const a = samplePayment({ customer: { name: NAME, email: EMAIL } });
    const b = samplePayment();
    await store.transaction(async (tx) => {
      await tx.insertPayment(a);
      await tx.insertPayment(b);
    });
    const raw = (await inner.getPayment(a.id))!;
    const expectFailure = async (payment: Payment, code: string) => {
      const version = (await inner.getPayment(payment.id))!.version;
      await inner.transaction((tx) => tx.updatePayment({ ...payment, version: version + 1 }));
      const error = await store.getPayment(payment.id).then(
        () => null,
        (e: unknown) => e,
      );
      expect(TenderError.isInstance(error)).toBe(true);
      expect((error as TenderError).code).toBe(code);
      expect((error as TenderError).status).toBe(500);
      const text = JSON.stringify({ message: (error as Error).message, details: (error as TenderError).details });
      expect(text).toContain(payment.id);
      for (const secret of [EMAIL, NAME]) expect(text).not.toContain(secret);
    };
    // One flipped character of the ciphertext.
    const email = raw.customer.email!;
    const i = email.length - 5;
    const flipped = `${email.slice(0, i)}${email[i] === 'A' ? 'B' : 'A'}${email.slice(i + 1)}`;
    await expectFailure({ ...raw, customer: { ...raw.customer, email: flipped } }, 'decryption_failed');
    // A valid ciphertext moved to another field of the same payment, or to another payment.
    await expectFailure({ ...raw, customer: { name: email, email } }, 'decryption_failed');
    const rawB = (await inner.getPayment(b.id))!;
    await expectFailure({ ...rawB, customer: { email } }, 'decryption_failed');
    // A key id that is not configured.
    const other = createEncryptingStore(inner, { keys: [key('k2')], activeKeyId: 'k2' });
    await expect(other.getPayment(a.id)).rejects.toMatchObject({ code: 'encryption_key_unknown', details: { keyId: 'k1' } });
    const fresh = samplePayment({ customer: { email: EMAIL } });
    await other.transaction((tx) => tx.insertPayment(fresh));
    await expect(store.getPayment(fresh.id)).rejects.toMatchObject({ code: 'encryption_key_unknown', details: { keyId: 'k2' } });
  });

  it('rotates every record to the active key, encrypting plaintext written before encryption was on, and leaves old rows readable meanwhile', async () => {
    const inner = new MemoryStore();
    const oldKey = key('old');
    const newKey = key('new');
    // Plaintext from before encryption, then rows under the old key.
    const gateway = createTestGateway({ flow: 'direct' });
    const legacy = await setup(inner, gateway).payments.create({ ...createBody, orderId: 'ORD-LEGACY' }, { idempotencyKey: 'legacy' });
    const before = createEncryptingStore(inner, { keys: [oldKey], activeKeyId: 'old' });
    const tender = setup(before, gateway);
    const made = [];
    for (let i = 0; i < 7; i++) made.push(await tender.payments.create({ ...createBody, orderId: `ORD-${i}` }, { idempotencyKey: `k-${i}` }));
    const refunded = made[0]!;
    await tender.payments.refund(refunded.id, { amount: '1.00', metadata: { payer_name: NAME } }, { idempotencyKey: 'r-1' });

    const during = createEncryptingStore(inner, { keys: [oldKey, newKey], activeKeyId: 'new' });
    expect((await during.getPayment(made[3]!.id))!.customer.email).toBe(EMAIL);
    const pages: string[] = [];
    const report = await during.rotateKeys({ batchSize: 3, onPage: (kind) => pages.push(kind) });
    expect(report.failed).toEqual([]);
    expect(report.counts.payments).toEqual({ scanned: 8, rewritten: 8, remaining: 0 });
    expect(report.counts.refunds).toEqual({ scanned: 1, rewritten: 1, remaining: 0 });
    expect(report.counts.outbox.rewritten).toBeGreaterThan(8);
    expect(report.counts.outbox.remaining).toBe(0);
    expect(report.counts.idempotency).toMatchObject({ scanned: 9, rewritten: 9, remaining: 0 });
    expect(pages.filter((k) => k === 'payments').length).toBeGreaterThan(2);
    // Nothing left to do.
    expect((await during.rotateKeys()).counts.payments).toEqual({ scanned: 8, rewritten: 0, remaining: 0 });

    // Only the new key is needed now; every row reads.
    const after = createEncryptingStore(inner, { keys: [newKey], activeKeyId: 'new' });
    for (const p of [legacy, ...made]) {
      expect((await after.getPayment(p.id))!.customer).toEqual({ name: NAME, email: EMAIL, phone: PHONE });
      expect(keyIdOf((await inner.getPayment(p.id))!.customer.email!)).toBe('new');
    }
    expect((await after.listRefunds(refunded.id))[0]!.metadata.payer_name).toBe(NAME);
    expect((await after.getIdempotencyRecord('default', 'legacy'))!.response!.body).toMatchObject({ customer: { email: EMAIL } });
  });

  it('reports a record it cannot decrypt and rotates the rest', async () => {
    const inner = new MemoryStore();
    const oldKey = key('old');
    const newKey = key('new');
    const before = createEncryptingStore(inner, { keys: [oldKey], activeKeyId: 'old' });
    const good = samplePayment({ customer: { email: EMAIL } });
    const bad = samplePayment({ customer: { email: EMAIL } });
    await before.transaction(async (tx) => {
      await tx.insertPayment(good);
      await tx.insertPayment(bad);
    });
    const raw = (await inner.getPayment(bad.id))!;
    await inner.transaction((tx) => tx.updatePayment({ ...raw, customer: { email: `${raw.customer.email!.slice(0, -3)}AAA` }, version: 2 }));
    const report = await createEncryptingStore(inner, { keys: [oldKey, newKey], activeKeyId: 'new' }).rotateKeys();
    expect(report.failed).toEqual([{ kind: 'payments', id: bad.id, code: 'decryption_failed' }]);
    expect(report.counts.payments).toEqual({ scanned: 2, rewritten: 1, remaining: 1 });
    expect(keyIdOf((await inner.getPayment(good.id))!.customer.email!)).toBe('new');
  });

  it('anonymises encrypted payments without a key, and retention keeps amounts and the trail', async () => {
    const inner = new MemoryStore();
    const k = key('k1');
    const store = createEncryptingStore(inner, { keys: [k], activeKeyId: 'k1' });
    const tender = setup(store);
    const old = await tender.payments.create(createBody, { idempotencyKey: 'old' });
    const trail = await tender.transitions(old.id);
    const dry = await applyRetention(store, { retentionDays: 30, now: new Date(Date.now() + 31 * 86_400_000), dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, anonymized: { payments: 1, outbox: expect.any(Number), idempotency: 1 } });
    expect((await store.getPayment(old.id))!.customer.email).toBe(EMAIL);
    // Not old enough yet: nothing happens.
    expect((await applyRetention(store, { retentionDays: 30 })).anonymized).toMatchObject({ payments: 0 });
    const report = await applyRetention(store, { retentionDays: 30, now: new Date(Date.now() + 31 * 86_400_000), batchSize: 1 });
    expect(report.anonymized).toMatchObject({ payments: 1 });
    const p = (await store.getPayment(old.id))!;
    expect(p).toMatchObject({ amount: '100.50', status: old.status, customer: { name: ANONYMIZED, email: ANONYMIZED, phone: ANONYMIZED }, metadata: { cart: '42', customer_email: ANONYMIZED } });
    expect(await tender.transitions(old.id)).toEqual(trail);
    const everything = (await storedStrings(inner, old, 'old')).join('\n');
    expect(everything).not.toContain('enc:v1:');
  });
});
