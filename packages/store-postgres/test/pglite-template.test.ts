import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { samplePayment } from '@tender/core/testing';
import { createPGliteStore } from '@tender/store-postgres';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('new PGlite databases from the template', () => {
  it('a database made from the template is migrated, and holds nothing of another one made from it', async () => {
    const first = await createPGliteStore();
    const second = await createPGliteStore();
    try {
      const payment = samplePayment({ id: 'pay_template_1' });
      await first.transaction((tx) => tx.insertPayment(payment));
      expect((await first.getPayment(payment.id))?.id).toBe(payment.id);
      expect(await second.getPayment(payment.id)).toBeNull();
      await second.transaction((tx) => tx.insertPayment(samplePayment({ id: 'pay_template_2' })));
      expect(await first.getPayment('pay_template_2')).toBeNull();
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('a new data directory starts from the template and reopens with its rows', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tender-template-'));
    roots.push(root);
    const dataDir = join(root, 'db');
    const store = await createPGliteStore({ dataDir });
    await store.transaction((tx) => tx.insertPayment(samplePayment({ id: 'pay_template_3' })));
    await store.close();
    expect(readdirSync(dataDir)).toContain('PG_VERSION');
    const reopened = await createPGliteStore({ dataDir });
    try {
      expect((await reopened.getPayment('pay_template_3'))?.id).toBe('pay_template_3');
    } finally {
      await reopened.close();
    }
  });
});
