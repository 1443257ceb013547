import { describe, expect, it } from 'vitest';
import {
  captureSkey,
  channelStatusSkey,
  hexEquals,
  paymentSkey,
  refundInquiryByTxnSignature,
  refundResponseSignature,
  refundSignature,
  requeryByTidSkey,
  requeryVrfKey,
  reversalSkey,
  statusVrfKey,
  vcode,
} from '@tender/fiuu';

// Public vectors T1–T7 from the tests of github.com/leesiongchan/omnipay-molpay (tests/Message/*Test.php,
// tests/Mock/*.txt), each re-computed independently.
describe('public vectors (omnipay-molpay tests)', () => {
  it('T1 vcode', () => {
    expect(vcode({ amount: '10.00', merchantId: 'test1234', orderId: '20160331082207680000', verifyKey: 'abcdefg' })).toBe('f3d5496b444ae3d11e09fa92a753ac60');
  });

  const t2 = { tranID: '000001', orderid: '20160331082207680000', status: '00', domain: 'test4321', amount: '10.00', currency: 'MYR', paydate: '2016-03-29 04:02:21', appcode: 'abcdefg' };
  it('T2 skey, status 00, keyed with the secret key (not the verify key)', () => {
    expect(paymentSkey(t2, 'hilklmn')).toBe('2e684713b97a79721e347492ef75765e');
    expect(paymentSkey(t2, 'abcdefg')).not.toBe('2e684713b97a79721e347492ef75765e');
  });
  it('T3 skey, status 22', () => {
    expect(paymentSkey({ ...t2, status: '22' }, 'hilklmn')).toBe('7f5b456722717f87ae37810d641742cb');
  });

  const refund = { RefundType: 'P', MerchantID: 'your_merchant_id', RefID: 'merchant_refund_ref_id', TxnID: '25248208', Amount: '10.00' };
  it('T4 refund Signature', () => {
    expect(refundSignature(refund, 'your_secret_key')).toBe('aafbef8720b13a33b37370a1a3b1c238');
  });
  it('T5 reversal skey', () => {
    expect(reversalSkey({ txnID: '25248208', domain: 'your_merchant_id', secretKey: 'your_secret_key' })).toBe('d07b97e2b8c7234792d3fb1fe56db619');
  });
  it('T6 reversal VrfKey', () => {
    expect(statusVrfKey({ secretKey: 'your_secret_key', domain: 'your_merchant_id', tranID: '25248203', statCode: '00' })).toBe('f56d5ea9932861454b7fd69851f57f7c');
  });
  it('T7 refund response Signature (status hashed as 22)', () => {
    expect(refundResponseSignature({ ...refund, RefundID: '19', Status: '22' }, 'your_secret_key')).toBe('816071a1a72a260b87d7570beb0a670a');
  });
});

// Derived fixtures: computed from the formulas in Fiuu's API Spec for Merchant (v13.86), not taken from a source.
describe('derived fixtures', () => {
  const vk = 'abcdefg';
  const sk = 'hilklmn';
  const mid = 'test1234';
  const txn = '25248208';
  it('extended vcode appends the currency', () => {
    expect(vcode({ amount: '10.00', merchantId: mid, orderId: '20160331082207680000', verifyKey: vk, currency: 'MYR' })).toBe('5ee46f7dc206b865f9e06c6dbbc30940');
  });
  it('q_by_tid skey and VrfKey', () => {
    expect(requeryByTidSkey({ txID: txn, domain: mid, verifyKey: vk, amount: '10.00' })).toBe('dcd97075994552cbd855cb393c465993');
    expect(requeryVrfKey({ amount: '10.00', secretKey: sk, domain: mid, id: txn, statCode: '00' })).toBe('0b5192649c01b0627f8e7a59cef64ef8');
  });
  it('capture skey and VrfKey', () => {
    expect(captureSkey({ tranID: txn, amount: '10.00', domain: mid, verifyKey: vk })).toBe('d4255996655d758bb8aad12dbc0b67ca');
    expect(statusVrfKey({ secretKey: sk, domain: mid, tranID: txn, statCode: '00' })).toBe('3c59a0ed59bb8342146c25f52de4f21b');
  });
  it('refund q_by_txn Signature', () => {
    expect(refundInquiryByTxnSignature({ txnID: txn, merchantId: mid, verifyKey: vk })).toBe('05cade28afa03dfde0911b53625a7b2b');
  });
  it('channel_status HMAC-SHA256 skey', () => {
    expect(channelStatusSkey({ datetime: '20250515000000', merchantId: mid, verifyKey: vk })).toBe('5b27a8e7a23e629bd62a4238ca92ea7af73a02924e2ddecb928758e4010b0f89');
  });
});

describe('hexEquals', () => {
  const good = '2e684713b97a79721e347492ef75765e';
  it('accepts the exact lower-case digest', () => expect(hexEquals(good, good)).toBe(true));
  it('rejects upper-case hex (Fiuu rejects it too)', () => expect(hexEquals(good, good.toUpperCase())).toBe(false));
  it('rejects other lengths, non-strings and a one-character change', () => {
    expect(hexEquals(good, good.slice(1))).toBe(false);
    expect(hexEquals(good, undefined)).toBe(false);
    expect(hexEquals(good, `${good.slice(0, -1)}f`)).toBe(false);
  });
});
