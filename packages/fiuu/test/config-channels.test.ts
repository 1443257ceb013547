import { describe, expect, it } from 'vitest';
import { Money } from '@tender/core';
import { createFiuuGateway, endpoints, FIUU_CHANNELS, formatAmount, normaliseChannel, parseAmount, resolveChannel, resolveFiuuConfig } from '@tender/fiuu';

const base = { merchantId: 'SB_acme', verifyKey: 'vk', secretKey: 'sk' };

describe('config', () => {
  it.each([
    [{ ...base, merchantId: undefined }, 'merchantId'],
    [{ ...base, merchantId: 'bad id!' }, 'merchantId'],
    [{ ...base, verifyKey: '' }, 'verifyKey'],
    [{ ...base, secretKey: undefined }, 'secretKey'],
    [{ ...base, apiHost: 'not a url' }, 'apiHost'],
    [{ ...base, paymentHost: 'ftp://x' }, 'paymentHost'],
    [{ ...base, pathPrefix: 'XYZ' }, 'pathPrefix'],
    [{ ...base, currencyField: 'money' }, 'currencyField'],
    [{ ...base, requery: { minIntervalMs: -1 } }, 'requery.minIntervalMs'],
  ])('names the bad field (%#)', (config, field) => {
    expect(() => createFiuuGateway(config as never)).toThrow(expect.objectContaining({ code: 'invalid_gateway_config', param: field }));
  });

  it('defaults: production hosts, /RMS/, sandbox API host sandbox-api.fiuu.com; overrides win', () => {
    expect(endpoints(resolveFiuuConfig(base)).payment).toBe('https://pay.fiuu.com/RMS/pay/SB_acme/');
    expect(endpoints(resolveFiuuConfig(base)).qByTid).toBe('https://api.fiuu.com/RMS/q_by_tid.php');
    const sb = resolveFiuuConfig({ ...base, sandbox: true });
    expect([sb.paymentHost, sb.apiHost, sb.seamlessVersion]).toEqual(['https://sandbox-payment.fiuu.com', 'https://sandbox-api.fiuu.com', 'latest']);
    const legacy = endpoints(resolveFiuuConfig({ ...base, sandbox: true, apiHost: 'https://sandbox-payment.fiuu.com/', pathPrefix: 'MOLPay' }));
    expect(legacy.refund).toBe('https://sandbox-payment.fiuu.com/MOLPay/API/refundAPI/index.php');
    expect(resolveFiuuConfig({ merchantId: 'm', verifyKey: 'v', legacySkeyWithVerifyKey: true }).secretKey).toBe('v');
  });
});

describe('channels', () => {
  it('has channels for FPX, the e-wallets, DuitNow and MAE QR, cards, PayNow, eNETS and the Philippine banks, in MY, SG, PH, TH and VN', () => {
    for (const m of ['FPX', 'FPX_MB2U', 'GRABPAY', 'TNG', 'SHOPEEPAY', 'BOOST', 'MAE_QR', 'DUITNOW_QR', 'ATOME', 'CARD', 'PAYNOW', 'ENETS', 'GCASH', 'MAYA', 'BPI', 'UNIONBANK']) {
      expect(FIUU_CHANNELS.some((c) => c.method === m || c.group === m)).toBe(true);
    }
    for (const country of ['MY', 'SG', 'PH', 'TH', 'VN']) expect(FIUU_CHANNELS.some((c) => c.countries.includes(country as never))).toBe(true);
  });

  it('maps methods to hosted and seamless codes', () => {
    expect(resolveChannel('fpx_cimbclicks', 'MYR')).toMatchObject({ hosted: 'FPX_CIMBCLICKS', seamless: 'fpx_cimbclicks' });
    expect(resolveChannel('TNG', 'MYR').hosted).toBe('TNG-EWALLET');
    expect(resolveChannel('CARD', 'SGD').hosted).toBe('creditAN');
    expect(resolveChannel('FIUU:9PAY_ATM', 'VND').hosted).toBe('9PAY_ATM');
  });

  it('normalises the differing names Fiuu sends back', () => {
    expect(normaliseChannel('Credit')).toBe('CARD');
    expect(normaliseChannel('credit')).toBe('CARD');
    expect(normaliseChannel('FPX')).toBe('FPX');
    expect(normaliseChannel('maybank2u')).toBe('FPX_MB2U');
    expect(normaliseChannel('MB2u')).toBe('FPX_MB2U');
    expect(normaliseChannel('CIMB-Clicks')).toBe('FPX_CIMBCLICKS');
    expect(normaliseChannel('eNets-D_DBS')).toBe('ENETS');
    expect(normaliseChannel('PayMaya e-wallet')).toBe('MAYA');
    expect(normaliseChannel('TNG-EWALLET')).toBe('TNG');
    expect(normaliseChannel('something-new')).toBeNull();
  });
});

describe('amounts', () => {
  it('formats two decimals and parses back exactly', () => {
    expect(formatAmount(Money.of('10', 'MYR'))).toBe('10.00');
    expect(formatAmount(Money.of('25000', 'VND'))).toBe('25000.00');
    expect(parseAmount('25000.00', 'VND').toString()).toBe('25000');
    expect(parseAmount('3899.00', 'MYR').toString()).toBe('3899.00');
    expect(() => formatAmount(Money.of('1.234', 'KWD'))).toThrow(expect.objectContaining({ code: 'amount_too_precise' }));
  });
});

describe('fiuuConfigFromEnv', () => {
  it('reads the FIUU_* variables; null without credentials', async () => {
    const { fiuuConfigFromEnv } = await import('@tender/fiuu');
    expect(fiuuConfigFromEnv({})).toBeNull();
    const config = fiuuConfigFromEnv({ FIUU_MERCHANT_ID: 'SB_x', FIUU_VERIFY_KEY: 'v', FIUU_SECRET_KEY: 's', FIUU_SANDBOX: 'true', FIUU_TIMEOUT: '30s', FIUU_RETRY_ATTEMPTS: '3', FIUU_RETRY_DELAY: '1s', FIUU_BASE_URL: 'http://127.0.0.1:9' });
    expect(config).toMatchObject({ merchantId: 'SB_x', sandbox: true, timeoutMs: 30_000, retryAttempts: 3, retryDelayMs: 1000, paymentHost: 'http://127.0.0.1:9', apiHost: 'http://127.0.0.1:9' });
    expect(() => createFiuuGateway(fiuuConfigFromEnv({ FIUU_MERCHANT_ID: 'SB_x', FIUU_VERIFY_KEY: 'v' })!)).toThrow(expect.objectContaining({ param: 'secretKey' }));
  });
});
