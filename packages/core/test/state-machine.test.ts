import { describe, expect, it } from 'vitest';
import { PAYMENT_STATUSES, PAYMENT_TRANSITIONS, assertPaymentTransition, canTransitionPayment, canTransitionRefund, isStalePaymentReport } from '@tender/core';

describe('payment state machine', () => {
  it('has an entry for every status and only known targets', () => {
    for (const status of PAYMENT_STATUSES) {
      for (const to of PAYMENT_TRANSITIONS[status]) expect(PAYMENT_STATUSES).toContain(to);
    }
  });

  it('throws a 409 illegal_transition for moves the table forbids', () => {
    expect(() => assertPaymentTransition('REFUNDED', 'AUTHORIZED')).toThrow(expect.objectContaining({ status: 409, code: 'illegal_transition' }));
    expect(canTransitionPayment('CAPTURED', 'FAILED')).toBe(false);
    expect(canTransitionPayment('AUTHORIZED', 'CAPTURED')).toBe(true);
    expect(canTransitionRefund('FAILED', 'SUCCEEDED')).toBe(false);
  });

  it('treats backwards reports as stale', () => {
    expect(isStalePaymentReport('CAPTURED', 'REQUIRES_ACTION')).toBe(true);
    expect(isStalePaymentReport('CAPTURED', 'FAILED')).toBe(true);
    expect(isStalePaymentReport('REQUIRES_ACTION', 'CAPTURED')).toBe(false);
  });
});
