/**
 * The engine's risk stage: every create is evaluated by the risk engine (`createTender({ risk })`)
 * after validation and routing and before anything is stored or sent. The decision rides on the
 * payment (`gatewayData.risk`) and on its audit trail: `block` stores it `FAILED` (`risk_blocked`)
 * and calls no gateway; `review` holds it `REQUIRES_REVIEW`; `step_up` asks the gateway for 3-D
 * Secure (`GatewayCreatePaymentInput.threeDSecure`), also when a `confirm: false` payment is
 * authorised later.
 *
 * `tender.payments.review` decides a held payment: a decline fails it (`risk_declined`); an approval
 * continues as its create would have: a `confirm: false` payment becomes unconfirmed `PENDING`
 * again (the merchant authorises it), any other goes to its gateway through the authorize machinery
 * (`authorize.ts`: the payment's own gateway key, crash recovery by key takeover and the reconciler).
 *
 * @module
 */
import { TenderError, invalidRequest, stateConflict } from '../../errors';
import type { Payment } from '../../payment';
import { RISK_DATA_KEY, riskOf } from '../../risk/engine';
import type { RiskAssessment, RiskEngine, RiskInput, RiskSignals } from '../../risk/types';
import type { GatewayCreatePaymentInput } from '../../spec/gateway/v1/index';
import { gatewayOf, type EngineContext } from '../context';
import { optionalReason, type RequestOptions, type ReviewInput, type ValidCreate } from '../inputs';
import { UnitOfWork, type ChangeCause } from '../unit-of-work';
import { AUTHORIZE_STARTED, requestOf, resumeCrashed } from './authorize';
import { savedMethodOfPayment } from './saved-method';
import { startAtGateway } from './start';
import { checkKey, claimOrReplay, complete, ensureCanSend, fingerprintOf, knownPayment, markRecovery, merchantOf, replay, type Phase1, type PaymentsHost } from './steps';
import { CONFIRMED, UNCONFIRMED, type UnconfirmedMark } from './unconfirmed';

/** `gatewayData` key of a payment held `REQUIRES_REVIEW`: what its create would have done next. */
export const REVIEW_HOLD = 'reviewHold';

/** The value stored under {@link REVIEW_HOLD}. */
export interface ReviewHold {
  /** False for a payment created with `confirm: false`: an approval leaves it unconfirmed. */
  confirm: boolean;
  /** The caller's `offSession`, null when not given. */
  offSession: boolean | null;
}

/** Failure code of a payment the risk engine blocked. */
export const RISK_BLOCKED = 'risk_blocked';
/** Failure code of a held payment an admin declined. */
export const RISK_DECLINED = 'risk_declined';

const SIGNAL_LIMIT = 512;

/** A signal as given (trimmed), null when absent; anything but a short string is a 400 naming it. */
function signal(value: unknown, param: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > SIGNAL_LIMIT || /[\u0000-\u001f\u007f]/.test(value)) {
    throw invalidRequest('invalid_risk_signal', `${param} must be a string of at most ${SIGNAL_LIMIT} printable characters`, param);
  }
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/** The create input's risk signals, checked (400 naming the field) before anything is evaluated. */
export function validateSignals(raw: unknown): Required<{ [K in keyof RiskSignals]: string | null }> {
  if (raw === undefined || raw === null) return { ip: null, deviceFingerprint: null, cardFingerprint: null, country: null, email: null };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidRequest('invalid_risk_signal', 'risk must be an object', 'risk');
  const r = raw as Record<string, unknown>;
  const country = signal(r.country, 'risk[country]');
  if (country !== null && !/^[A-Za-z]{2}$/.test(country)) throw invalidRequest('invalid_risk_signal', 'risk[country] must be an ISO 3166-1 alpha-2 code', 'risk[country]');
  return {
    ip: signal(r.ip, 'risk[ip]'),
    deviceFingerprint: signal(r.deviceFingerprint, 'risk[device_fingerprint]'),
    cardFingerprint: signal(r.cardFingerprint, 'risk[card_fingerprint]'),
    country: country === null ? null : country.toUpperCase(),
    email: signal(r.email, 'risk[email]'),
  };
}

/**
 * Evaluates a create with the engine's risk engine (null without one). The velocity attempt is the
 * request's key when it has one, so a retry of the same request is counted once.
 */
export async function assessCreate(
  ctx: EngineContext,
  risk: RiskEngine | undefined,
  merchantId: string,
  input: ValidCreate,
  raw: unknown,
  draft: GatewayCreatePaymentInput,
  gateway: string,
  userId: string | null,
  options: RequestOptions,
): Promise<RiskAssessment | null> {
  if (!risk) return null;
  const signals = validateSignals(raw);
  return evaluateOrRefuse(ctx, risk, {
    merchantId,
    paymentId: draft.paymentId,
    ...(options.idempotencyKey === undefined ? {} : { attemptId: `key:${options.idempotencyKey}` }),
    amount: input.amount,
    paymentMethod: draft.paymentMethod,
    gateway,
    userId,
    email: input.customer.email ?? signals.email,
    ip: signals.ip,
    deviceFingerprint: signals.deviceFingerprint,
    cardFingerprint: signals.cardFingerprint,
    country: signals.country,
  });
}

/**
 * Evaluates, or refuses the create with a retryable 503 `risk_unavailable` (nothing stored, nothing
 * sent) when the risk engine cannot decide (its velocity store is down): a payment is never let
 * through unchecked.
 */
async function evaluateOrRefuse(ctx: EngineContext, risk: RiskEngine, input: RiskInput): Promise<RiskAssessment> {
  try {
    return await risk.evaluate(input);
  } catch (error) {
    ctx.logger.error({ paymentId: input.paymentId, error: String(error) }, 'risk evaluation failed; create refused');
    throw new TenderError({ type: 'storage_error', code: 'risk_unavailable', message: 'Risk checks are unavailable right now; nothing was stored or sent, retry later', retryable: true, retryAfterSeconds: 5, cause: error });
  }
}

/** What the trail says of a decision: the action, the score and the rules that fired (ids only). */
export function describe(assessment: RiskAssessment): string {
  const rules = assessment.rules.length === 0 ? 'no rules fired' : `rules ${assessment.rules.map((r) => `${r.id}+${r.score}`).join(', ')}`;
  const ml = assessment.ml ? (assessment.ml.outcome === 'ok' ? `, ml ${assessment.ml.score}` : `, ml ${assessment.ml.outcome}`) : '';
  return `risk ${assessment.action}: score ${assessment.score}/${assessment.thresholds.max} (${rules}${ml})`;
}

/** True when the decision stops the create before the gateway. */
export function stopsCreate(assessment: RiskAssessment | null): assessment is RiskAssessment & { action: 'block' | 'review' } {
  return assessment !== null && (assessment.action === 'block' || assessment.action === 'review');
}

/**
 * Applies a decision that stops a create to its just-inserted `PENDING` payment: `FAILED`
 * (`risk_blocked`) or `REQUIRES_REVIEW` with the hold an approval continues from.
 */
export async function applyStop(unit: UnitOfWork, payment: Payment, assessment: RiskAssessment, hold: ReviewHold, cause: ChangeCause): Promise<Payment> {
  const gatewayData = { ...payment.gatewayData };
  delete gatewayData[UNCONFIRMED];
  if (assessment.action === 'block') {
    return unit.writePayment(payment, { ...payment, status: 'FAILED', gatewayData, failure: { code: RISK_BLOCKED, message: 'The payment was declined by risk checks' } }, { actor: cause.actor, reason: describe(assessment) });
  }
  return unit.writePayment(payment, { ...payment, status: 'REQUIRES_REVIEW', gatewayData: { ...gatewayData, [REVIEW_HOLD]: hold } }, { actor: cause.actor, reason: describe(assessment) });
}

/** `gatewayData` of a new payment with its decision. */
export function withRisk(gatewayData: Record<string, unknown>, assessment: RiskAssessment | null): Record<string, unknown> {
  return assessment ? { ...gatewayData, [RISK_DATA_KEY]: assessment } : gatewayData;
}

/** True when the payment's decision asked for a step-up (its gateway requests ask for 3-D Secure). */
export function stepUpOf(payment: Payment): boolean {
  return riskOf(payment)?.action === 'step_up' && payment.gatewayData[REVIEW_APPROVED] === undefined;
}

/** `gatewayData` key set when an admin approved the payment: no step-up is asked after a human decided. */
const REVIEW_APPROVED = 'reviewApproved';

function holdOf(payment: Payment): ReviewHold {
  const hold = payment.gatewayData[REVIEW_HOLD] as Partial<ReviewHold> | undefined;
  return { confirm: hold?.confirm !== false, offSession: typeof hold?.offSession === 'boolean' ? hold.offSession : null };
}

function withoutHold(gatewayData: Record<string, unknown>, approved: { at: string; actor: string; reason: string | null } | null): Record<string, unknown> {
  const rest = { ...gatewayData };
  delete rest[REVIEW_HOLD];
  if (approved) rest[REVIEW_APPROVED] = approved;
  return rest;
}

/** Checks a review request (400 naming the field). */
function validateReview(raw: ReviewInput): { decision: 'approve' | 'decline'; reason: string | null } {
  if (typeof raw !== 'object' || raw === null) throw invalidRequest('invalid_body', 'The request body must be an object');
  if (raw.decision !== 'approve' && raw.decision !== 'decline') throw invalidRequest('invalid_decision', "decision must be 'approve' or 'decline'", 'decision');
  return { decision: raw.decision, reason: optionalReason(raw.reason) };
}

/**
 * Decides a payment held `REQUIRES_REVIEW`; see the module comment. Idempotent with a key (a repeat
 * replays), crash-safe as authorize.
 * @throws TenderError 400 `invalid_decision`; 404 for another merchant's payment; 409 `state_error`
 * `payment_not_in_review` for a payment that is not held; 503 `circuit_open` (nothing changed) when
 * approving while the gateway would certainly not send.
 */
export async function reviewPayment(ops: PaymentsHost, id: string, raw: ReviewInput, options: RequestOptions = {}): Promise<Payment> {
  const merchantId = merchantOf(ops.ctx, options);
  checkKey(options);
  const input = validateReview(raw);
  const fingerprint = fingerprintOf(options, 'payments.review', id, input);
  const known = await knownPayment(ops.ctx, id, merchantId);
  if (input.decision === 'approve' && known.status === 'REQUIRES_REVIEW' && holdOf(known).confirm) ensureCanSend(gatewayOf(ops.ctx, known.gateway));
  const actor = options.actor ?? 'api';
  const note = input.reason === null ? '' : `: ${input.reason}`;
  type Go = { payment: Payment; resumed: boolean; done: boolean; saved: Awaited<ReturnType<typeof savedMethodOfPayment>>; mark: UnconfirmedMark };
  const first = await UnitOfWork.runOn(ops.ctx, known, (unit, stored) => claimOrReplay<Go>(ops.ctx, unit, { merchantId, options, fingerprint }, async ({ record, takeover }): Promise<Phase1<Go>> => {
    let payment = stored;
    if (takeover && record?.recoveryPoint === AUTHORIZE_STARTED && payment.status !== 'REQUIRES_REVIEW') {
      // A crashed approval: its call may have reached the gateway; the same request again.
      const resumed = await resumeCrashed(unit, ops.ctx, payment);
      return { kind: 'go', record, payment, resumed: true, done: false, saved: resumed.saved, mark: resumed.mark };
    }
    if (payment.status !== 'REQUIRES_REVIEW') {
      throw stateConflict('payment_not_in_review', `Only a payment held for review can be reviewed; this one is ${payment.status}`, { status: payment.status });
    }
    const hold = holdOf(payment);
    const mark: UnconfirmedMark = { offSession: hold.offSession };
    if (input.decision === 'decline') {
      payment = await unit.writePayment(
        payment,
        { ...payment, status: 'FAILED', gatewayData: withoutHold(payment.gatewayData, null), failure: { code: RISK_DECLINED, message: 'The payment was declined on review' } },
        { actor, reason: `review declined${note}` },
      );
      await complete(unit, record, { status: 200, body: payment }, { type: 'payment', id: payment.id });
      return { kind: 'go', record, payment, resumed: false, done: true, saved: null, mark };
    }
    const approved = { at: unit.now, actor: String(actor), reason: input.reason };
    if (!hold.confirm) {
      // Created with confirm=false: approved, it is what its create would have stored.
      payment = await unit.writePayment(
        payment,
        { ...payment, status: 'PENDING', gatewayData: { ...withoutHold(payment.gatewayData, approved), [UNCONFIRMED]: mark } },
        { actor, reason: `review approved${note}` },
      );
      await complete(unit, record, { status: 200, body: payment }, { type: 'payment', id: payment.id });
      return { kind: 'go', record, payment, resumed: false, done: true, saved: null, mark };
    }
    // Read in this transaction: a method removed meanwhile is refused, and nothing changes.
    const saved = await savedMethodOfPayment(unit.tx, ops.ctx, payment);
    payment = await unit.writePayment(
      payment,
      { ...payment, status: 'PENDING', gatewayData: { ...withoutHold(payment.gatewayData, approved), [CONFIRMED]: { at: unit.now, offSession: mark.offSession } } },
      { actor, reason: `review approved${note}` },
    );
    const updated = await markRecovery(unit, record, { type: 'payment', id: payment.id }, AUTHORIZE_STARTED);
    return { kind: 'go', record: updated, payment, resumed: false, done: false, saved, mark };
  }));
  if (first.kind === 'replay') return replay<Payment>(first.response, options);
  const { record, payment, saved, mark } = first;
  if (first.done) return payment;
  if (first.resumed && payment.status !== 'PENDING') {
    return UnitOfWork.run(ops.ctx, async (unit) => {
      const current = (await unit.tx.lockPayment(payment.id))!;
      await complete(unit, record, { status: 200, body: current }, { type: 'payment', id: current.id });
      return current;
    });
  }
  const gateway = gatewayOf(ops.ctx, payment.gateway);
  return startAtGateway(ops, first, payment, [gateway], requestOf(payment, saved, mark), options, { status: 200, unsent: { kind: 'fail' } });
}
