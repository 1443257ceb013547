/**
 * Stripe's test PaymentMethods (docs.stripe.com/testing) and what the sandbox does with each.
 *
 * @module
 */

/** Outcome of confirming with a test card. */
export interface TestCard {
  brand: string;
  last4: string;
  /** Needs a 3-D Secure challenge before it can succeed. */
  threeDSecure?: boolean;
  /** Declines with this error (after the challenge, when `threeDSecure`). */
  decline?: { code: string; declineCode: string; message: string };
  /** Refunds succeed at first and fail moments later (`refund.failed`). */
  refundFails?: boolean;
  /** Saving it (SetupIntent, attach) succeeds even though its charges decline (`decline`). */
  savesDespiteDecline?: boolean;
  /** Its `threeDSecure` challenge is needed on setup and on-session, but not off-session once set up. */
  setupAuthenticationOnly?: boolean;
}

const DECLINED = 'Your card was declined.';
const decline = (declineCode: string, message = DECLINED, code = 'card_declined') => ({ code, declineCode, message });

/** Test PaymentMethod ids the sandbox knows. */
export const TEST_CARDS: Readonly<Record<string, TestCard>> = {
  pm_card_visa: { brand: 'visa', last4: '4242' },
  pm_card_visa_debit: { brand: 'visa', last4: '5556' },
  pm_card_mastercard: { brand: 'mastercard', last4: '4444' },
  pm_card_amex: { brand: 'amex', last4: '8431' },
  pm_card_jcb: { brand: 'jcb', last4: '0505' },
  pm_card_unionpay: { brand: 'unionpay', last4: '0005' },
  pm_card_chargeDeclined: { brand: 'visa', last4: '0002', decline: decline('generic_decline') },
  pm_card_chargeDeclinedInsufficientFunds: { brand: 'visa', last4: '9995', decline: decline('insufficient_funds', 'Your card has insufficient funds.') },
  pm_card_chargeDeclinedLostCard: { brand: 'visa', last4: '9987', decline: decline('lost_card') },
  pm_card_chargeDeclinedStolenCard: { brand: 'visa', last4: '9979', decline: decline('stolen_card') },
  pm_card_chargeDeclinedFraudulent: { brand: 'visa', last4: '0019', decline: decline('fraudulent') },
  pm_card_chargeDeclinedExpiredCard: { brand: 'visa', last4: '0069', decline: decline('expired_card', 'Your card has expired.', 'expired_card') },
  pm_card_chargeDeclinedIncorrectCvc: { brand: 'visa', last4: '0127', decline: decline('incorrect_cvc', "Your card's security code is incorrect.", 'incorrect_cvc') },
  pm_card_chargeDeclinedProcessingError: {
    brand: 'visa',
    last4: '0119',
    decline: decline('processing_error', 'An error occurred while processing your card. Try again in a little bit.', 'processing_error'),
  },
  pm_card_authenticationRequired: { brand: 'visa', last4: '3184', threeDSecure: true },
  pm_card_threeDSecure2Required: { brand: 'visa', last4: '3220', threeDSecure: true },
  pm_card_authenticationRequiredChargeDeclinedInsufficientFunds: {
    brand: 'visa',
    last4: '9995',
    threeDSecure: true,
    decline: decline('insufficient_funds', 'Your card has insufficient funds.'),
  },
  pm_card_refundFail: { brand: 'visa', last4: '5126', refundFails: true },
  pm_card_chargeCustomerFail: { brand: 'visa', last4: '0341', decline: decline('generic_decline'), savesDespiteDecline: true },
  pm_card_authenticationRequiredOnSetup: { brand: 'visa', last4: '3155', threeDSecure: true, setupAuthenticationOnly: true },
};

/**
 * Test tokens (`tok_visa`, as Stripe.js or `stripe.tokens` would produce) and the test PaymentMethod
 * each stands for: `tok_<name>` is `pm_card_<name>` (https://docs.stripe.com/testing#cards).
 */
export function testCardIdOfToken(token: string): string | undefined {
  const id = token.startsWith('tok_') ? `pm_card_${token.slice(4)}` : undefined;
  return id && TEST_CARDS[id] ? id : undefined;
}
