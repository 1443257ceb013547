/**
 * Writes docs/state-machines.md: Mermaid `stateDiagram-v2` diagrams of the payment and refund state
 * machines drawn from `PAYMENT_TRANSITIONS` / `REFUND_TRANSITIONS` (`packages/core/src/state-machine.ts`,
 * the only definition of which status may follow which), the tables' own TSDoc, and a table of what
 * each status means. Run `npx tsx scripts/state-machines-doc.ts` after changing a table;
 * `packages/core/test/state-machines-doc.test.ts` fails while the committed file differs from what
 * this writes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PAYMENT_STATUSES, REFUND_STATUSES, type PaymentStatus, type RefundStatus } from '../packages/core/src/payment';
import { INVOICE_STATUSES, SUBSCRIPTION_STATUSES, type InvoiceStatus, type SubscriptionStatus } from '../packages/core/src/billing';
import { DISPUTE_STATUSES, type DisputeStatus } from '../packages/core/src/dispute';
import {
  DISPUTE_TRANSITIONS,
  INVOICE_TRANSITIONS,
  PAYMENT_TRANSITIONS,
  REFUNDABLE_PAYMENT_STATUSES,
  REFUND_TRANSITIONS,
  SUBSCRIPTION_TRANSITIONS,
  TERMINAL_PAYMENT_STATUSES,
} from '../packages/core/src/state-machine';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Where the generated page is written, relative to the repository root. */
export const STATE_MACHINES_DOC = 'docs/state-machines.md';

/** What each payment status means (the statuses carry no TSDoc of their own; the type keeps this complete). */
export const PAYMENT_STATUS_MEANINGS: Readonly<Record<PaymentStatus, string>> = {
  PENDING: 'Recorded before the gateway is called; the create is in flight (or crashed and awaits the reconciler or a retry).',
  REQUIRES_ACTION: 'The customer must act (redirect, 3-D Secure, seamless checkout, PayPal approval, a UPI app) before money moves.',
  PROCESSING: 'The gateway is working on it, or a capture or void is in flight, so a crash mid-call leaves it for the reconciler.',
  AUTHORIZED: 'Funds are held (manual capture); a capture takes them, a cancel voids the hold.',
  CAPTURED: 'Money has been taken; refunds are possible.',
  PARTIALLY_REFUNDED: 'Part of the captured amount has been refunded; more can be.',
  REFUNDED: 'The whole captured amount has been refunded.',
  FAILED: 'The gateway declined or the attempt failed; a late success reported by the gateway is still recorded.',
  CANCELLED: 'Cancelled before money was taken (authorisation voided); a hosted page paid afterwards is recorded as captured and refunded.',
  EXPIRED: 'The customer did not finish in time (requires-action deadline, a lapsed authorisation); a late payment is still recorded.',
  REQUIRES_REVIEW: 'Held by the risk checks before any gateway call: an approval sends it on as its create would have, a decline fails it (`risk_declined`).',
};

/** What each refund status means. */
export const REFUND_STATUS_MEANINGS: Readonly<Record<RefundStatus, string>> = {
  PENDING: 'Recorded before the gateway is asked; the refund is in flight or awaiting the gateway’s answer.',
  SUCCEEDED: 'The gateway reports the money returned.',
  FAILED: 'The gateway refused or later reversed the refund; the amount counts as the payment’s again.',
};

/** What each subscription status means (Stripe Billing's, https://docs.stripe.com/billing/subscriptions/overview#subscription-statuses). */
export const SUBSCRIPTION_STATUS_MEANINGS: Readonly<Record<SubscriptionStatus, string>> = {
  incomplete: 'The first invoice is not paid yet (declined, or waiting for the customer to authenticate); 23 hours to pay it.',
  incomplete_expired: 'The first invoice was never paid; the subscription ended without charging.',
  trialing: 'In its free trial; the first charge comes at the trial’s end.',
  active: 'Paid up; renews at the end of each period (or ends then, with cancel at period end).',
  past_due: 'The latest renewal failed; the gateway retries on its schedule.',
  canceled: 'Ended: canceled now, at a period’s end, or after the retries ran out.',
  unpaid: 'The retries ran out and the gateway keeps it without charging (a Billing setting).',
  paused: 'A trial ended without a payment method, or it was paused; nothing is charged.',
};

/** What each invoice status means (https://docs.stripe.com/invoicing/overview#invoice-statuses). */
export const INVOICE_STATUS_MEANINGS: Readonly<Record<InvoiceStatus, string>> = {
  draft: 'Being prepared; can still change. A renewal’s draft is finalized about an hour after it is made.',
  open: 'Finalized and waiting to be paid; a failed attempt leaves it open for the retries.',
  paid: 'Paid: a Tender payment records the money taken.',
  uncollectible: 'Given up on by the merchant; it can still be paid or voided.',
  void: 'Canceled; never to be paid.',
};

/** What each dispute status means (Stripe's names, the others mapped onto them; see `dispute.ts`). */
export const DISPUTE_STATUS_MEANINGS: Readonly<Record<DisputeStatus, string>> = {
  warning_needs_response: 'An inquiry (not a chargeback yet) waiting for the merchant’s answer; no money held.',
  warning_under_review: 'An inquiry answered, under review; no money held.',
  warning_closed: 'An inquiry that ended without becoming a chargeback.',
  needs_response: 'A chargeback: the amount is held, waiting for the merchant’s evidence.',
  under_review: 'Evidence submitted; the network or the gateway decides.',
  won: 'Decided for the merchant; the held amount comes back.',
  lost: 'Decided for the customer; the amount is gone.',
  accepted: 'The merchant accepted the claim; the amount is gone.',
  closed: 'Ended without a decision on the money (withdrawn by the customer, prevented).',
};

/** Every `from -> to` pair of a transition table, in table order. */
export function transitions<S extends string>(table: Readonly<Record<S, readonly S[]>>): [S, S][] {
  return (Object.entries(table) as [S, readonly S[]][]).flatMap(([from, tos]) => tos.map((to) => [from, to] as [S, S]));
}

/** The Mermaid source of one machine: `[*]` enters at `initial`, then every transition of the table. */
export function mermaid<S extends string>(table: Readonly<Record<S, readonly S[]>>, initial: S): string {
  return ['stateDiagram-v2', `    [*] --> ${initial}`, ...transitions(table).map(([from, to]) => `    ${from} --> ${to}`)].join('\n');
}

/** The TSDoc block right before `export const <name>` in state-machine.ts, lines kept (it holds a list). */
function tsdocOf(name: string): string {
  const source = readFileSync(join(ROOT, 'packages/core/src/state-machine.ts'), 'utf8');
  const match = new RegExp(String.raw`/\*\*((?:(?!\*/)[\s\S])*)\*/\s*export const ${name}\b`).exec(source);
  if (!match) throw new Error(`no TSDoc before ${name} in state-machine.ts`);
  return match[1]!
    .split('\n')
    .map((line) => line.replace(/^\s*\*\s?/, '').trimEnd())
    .filter((line) => line.trim() !== '' && !line.startsWith('@'))
    .join('\n')
    .trim();
}

const list = (statuses: readonly string[]) => (statuses.length ? statuses.map((s) => `\`${s}\``).join(', ') : '—');

function statusTable<S extends string>(statuses: readonly S[], table: Readonly<Record<S, readonly S[]>>, meanings: Readonly<Record<S, string>>): string[] {
  return ['| status | meaning | may move to |', '| --- | --- | --- |', ...statuses.map((s) => `| \`${s}\` | ${meanings[s]} | ${list(table[s])} |`)];
}

/** The whole of docs/state-machines.md. */
export function renderStateMachinesDoc(): string {
  return [
    '# State machines',
    '',
    '<!-- Generated by `npx tsx scripts/state-machines-doc.ts` from packages/core/src/state-machine.ts;',
    '     do not edit by hand. -->',
    '',
    'The transition tables in [`packages/core/src/state-machine.ts`](../packages/core/src/state-machine.ts)',
    '(`PAYMENT_TRANSITIONS`, `REFUND_TRANSITIONS`, `SUBSCRIPTION_TRANSITIONS`, `INVOICE_TRANSITIONS`,',
    '`DISPUTE_TRANSITIONS`) are the only definition of which status may follow which; the diagrams below are',
    'drawn from them. A move a caller asks for that the table forbids is refused with a 409',
    '`illegal_transition`. A gateway report that would move a payment backwards along the happy path',
    '(webhooks arrive out of order) is recorded on the trail but not applied; subscriptions, invoices and',
    'disputes mirror the gateway, and a report the table forbids is logged and not applied.',
    '',
    '## Payment',
    '',
    '```mermaid',
    mermaid(PAYMENT_TRANSITIONS, PAYMENT_STATUSES[0]),
    '```',
    '',
    tsdocOf('PAYMENT_TRANSITIONS'),
    '',
    `Terminal (only a gateway's late report moves them): ${list(TERMINAL_PAYMENT_STATUSES)}. Refundable: ${list(REFUNDABLE_PAYMENT_STATUSES)}.`,
    '',
    ...statusTable(PAYMENT_STATUSES, PAYMENT_TRANSITIONS, PAYMENT_STATUS_MEANINGS),
    '',
    '## Refund',
    '',
    '```mermaid',
    mermaid(REFUND_TRANSITIONS, REFUND_STATUSES[0]),
    '```',
    '',
    tsdocOf('REFUND_TRANSITIONS'),
    '',
    ...statusTable(REFUND_STATUSES, REFUND_TRANSITIONS, REFUND_STATUS_MEANINGS),
    '',
    '## Subscription',
    '',
    '```mermaid',
    mermaid(SUBSCRIPTION_TRANSITIONS, SUBSCRIPTION_STATUSES[0]),
    '```',
    '',
    tsdocOf('SUBSCRIPTION_TRANSITIONS'),
    '',
    ...statusTable(SUBSCRIPTION_STATUSES, SUBSCRIPTION_TRANSITIONS, SUBSCRIPTION_STATUS_MEANINGS),
    '',
    '## Invoice',
    '',
    '```mermaid',
    mermaid(INVOICE_TRANSITIONS, INVOICE_STATUSES[0]),
    '```',
    '',
    tsdocOf('INVOICE_TRANSITIONS'),
    '',
    ...statusTable(INVOICE_STATUSES, INVOICE_TRANSITIONS, INVOICE_STATUS_MEANINGS),
    '',
    '## Dispute',
    '',
    '```mermaid',
    mermaid(DISPUTE_TRANSITIONS, DISPUTE_STATUSES[0]),
    '```',
    '',
    tsdocOf('DISPUTE_TRANSITIONS'),
    '',
    ...statusTable(DISPUTE_STATUSES, DISPUTE_TRANSITIONS, DISPUTE_STATUS_MEANINGS),
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  writeFileSync(join(ROOT, STATE_MACHINES_DOC), renderStateMachinesDoc());
}
