/**
 * NPCI UPI deep links (`upi://pay?...`): building, parsing and checking them, provider-independent.
 *
 * Parameters follow NPCI's "UPI Linking Specifications" (version 1.6; public copy at
 * https://studylib.net/doc/27265723/upi.linking.specs-ver.1.6): `pa` payee VPA (mandatory), `pn`
 * payee name (mandatory), `mc` merchant category code, `tid` PSP transaction id, `tr` transaction
 * reference (mandatory for merchant and dynamic links), `tn` note, `am` amount in rupees, `mam`
 * minimum amount, `cu` currency (only `INR`), `url` a link with the transaction's details.
 *
 * Encoding: values are percent-encoded (a space is `%20`, never `+`), and a missing value is left
 * out rather than sent as the text `null`. The amount is decimal rupees with two decimals
 * (`499.00`), built from integer paise so no float is ever involved. NPCI's circular of January 2025
 * requires transaction ids to be alphanumeric, so `tr`/`tid` generated here are `[A-Za-z0-9]` only.
 *
 * @module
 */
import { invalidRequest, UPI_VPA } from '@tender/core';

/** The parameters of a `upi://pay` link. Amounts are integer paise here, rupees on the wire. */
export interface UpiLinkParams {
  /** `pa`: the payee's VPA (`merchant@bank`). */
  payeeVpa: string;
  /** `pn`: the payee's name as the payer's app shows it. */
  payeeName: string;
  /** `am`: the amount in paise (integer); absent lets the payer enter one. */
  amountPaise?: number;
  /** `mam`: a minimum amount in paise when the payer may change `am`. */
  minimumAmountPaise?: number;
  /** `tr`: the merchant's transaction reference (order id); mandatory for merchant links. */
  transactionRef?: string;
  /** `tid`: a PSP-generated transaction id. */
  transactionId?: string;
  /** `tn`: a short note shown to the payer (at most 50 characters here). */
  note?: string;
  /** `mc`: the merchant category code (four digits). */
  merchantCode?: string;
  /** `url`: an http(s) link with the transaction's details. */
  url?: string;
  /** `cu`: always `INR` (the only currency the spec allows). */
  currency?: 'INR';
}

/** A parsed link: the known parameters plus every parameter as received (decoded). */
export interface ParsedUpiLink extends UpiLinkParams {
  /** Every query parameter, decoded, in order (including ones this module does not model). */
  raw: ReadonlyArray<readonly [string, string]>;
}

/** The order in which {@link buildUpiLink} writes parameters. */
const ORDER = ['pa', 'pn', 'mc', 'tid', 'tr', 'tn', 'am', 'mam', 'cu', 'url'] as const;

/** Longest note accepted (third-party readings of the spec give 50; NPCI's table was not readable). */
export const UPI_NOTE_MAX = 50;
/** Longest generated `tr` (conservative: the spec's limit is not public). */
export const UPI_REF_MAX = 35;

/** Amount grammar for `am`/`mam`: rupees with up to two decimals, no sign, separators or exponent. */
const AMOUNT = /^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$/;
const ALPHANUMERIC = /^[A-Za-z0-9]+$/;
/** Characters a payer's app cannot show faithfully: C0/C1 controls, bidi embeddings/overrides/isolates, lone surrogates. */
const UNSHOWABLE = /[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069]/u;

/**
 * Percent-encodes a value for a UPI link: RFC 3986 unreserved characters and `@` stay as they are;
 * everything else (space as `%20`, `&`, `=`, `+`, `#`, non-ASCII as UTF-8) is escaped.
 */
export function encodeUpiValue(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%40/g, '@');
}

/** Integer paise as the spec's decimal rupees (`12345` -> `"123.45"`). */
export function paiseToUpiAmount(paise: number): string {
  if (!Number.isSafeInteger(paise) || paise < 0) throw invalidRequest('invalid_amount', 'a UPI amount is a non-negative integer number of paise', 'amount');
  const rupees = Math.floor(paise / 100);
  const rest = paise % 100;
  return `${rupees}.${rest < 10 ? '0' : ''}${rest}`;
}

/** A link's decimal rupees as integer paise (`"10"` -> 1000, `"1.5"` -> 150); throws on anything else. */
export function upiAmountToPaise(amount: string, param = 'am'): number {
  if (!AMOUNT.test(amount)) throw invalidRequest('invalid_upi_amount', `${param} '${amount}' is not a UPI amount (rupees with at most two decimals)`, param);
  const [whole, fraction = ''] = amount.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

/** True when `vpa` has the form core accepts ({@link UPI_VPA}: `handle@psp`). */
export function isValidVpa(vpa: string): boolean {
  return UPI_VPA.test(vpa);
}

/** A `tr` value derived from any id: its letters and digits only, at most {@link UPI_REF_MAX}. */
export function toUpiReference(id: string): string {
  const ref = id.replace(/[^A-Za-z0-9]/g, '').slice(-UPI_REF_MAX);
  if (ref === '') throw invalidRequest('invalid_reference', 'a UPI transaction reference needs letters or digits', 'tr');
  return ref;
}

function check(params: UpiLinkParams): void {
  if (typeof params.payeeVpa !== 'string' || !isValidVpa(params.payeeVpa)) throw invalidRequest('invalid_vpa', 'pa is not a valid UPI address (name@psp)', 'pa');
  if (typeof params.payeeName !== 'string' || params.payeeName.trim() === '') throw invalidRequest('invalid_payee_name', 'pn (the payee name) is required', 'pn');
  if (params.currency !== undefined && params.currency !== 'INR') throw invalidRequest('currency_not_supported', 'UPI links are INR only (cu=INR)', 'cu');
  if (params.note !== undefined && params.note.length > UPI_NOTE_MAX) throw invalidRequest('invalid_note', `tn is at most ${UPI_NOTE_MAX} characters`, 'tn');
  for (const [value, param, code] of [
    [params.payeeName, 'pn', 'invalid_payee_name'],
    [params.note, 'tn', 'invalid_note'],
  ] as const) {
    if (value === undefined) continue;
    // Shown to the payer as text: control characters (a newline starting a fake second line), bidi
    // overrides (reordering what is displayed) and lone surrogates (not encodable) have no place there,
    // and the spec reads the text `null` as "no value".
    if (UNSHOWABLE.test(value)) throw invalidRequest(code, `${param} contains control, bidi-override or unpaired surrogate characters`, param);
    if (value.trim().toLowerCase() === 'null') throw invalidRequest(code, `${param} cannot be the word null (the spec reads it as no value)`, param);
  }
  for (const [value, param] of [
    [params.transactionRef, 'tr'],
    [params.transactionId, 'tid'],
  ] as const) {
    if (value !== undefined && (!ALPHANUMERIC.test(value) || value.length > UPI_REF_MAX)) {
      throw invalidRequest('invalid_reference', `${param} must be 1-${UPI_REF_MAX} letters or digits (NPCI: alphanumeric transaction ids only)`, param);
    }
  }
  if (params.merchantCode !== undefined && !/^[0-9]{4}$/.test(params.merchantCode)) throw invalidRequest('invalid_merchant_code', 'mc is a four-digit merchant category code', 'mc');
  if (params.url !== undefined && !/^https?:\/\/[^\s]+$/.test(params.url)) throw invalidRequest('invalid_url', 'url must be an http(s) link', 'url');
  if (params.amountPaise !== undefined && (!Number.isSafeInteger(params.amountPaise) || params.amountPaise <= 0)) throw invalidRequest('invalid_amount', 'am must be a positive integer of paise', 'am');
  if (params.minimumAmountPaise !== undefined) {
    if (!Number.isSafeInteger(params.minimumAmountPaise) || params.minimumAmountPaise <= 0) throw invalidRequest('invalid_amount', 'mam must be a positive integer of paise', 'mam');
    if (params.amountPaise !== undefined && params.minimumAmountPaise > params.amountPaise) throw invalidRequest('invalid_amount', 'mam cannot exceed am', 'mam');
  }
}

/**
 * Builds a `upi://pay` link from its parameters, after checking each (VPA form, alphanumeric `tr`,
 * note length, four-digit `mc`, positive amount). `cu=INR` is always written when an amount is.
 * @throws TenderError `invalid_request_error` naming the link parameter at fault.
 * @example buildUpiLink({ payeeVpa: 'shop@okbank', payeeName: 'My Shop', amountPaise: 49900, transactionRef: 'ORD123' })
 * // 'upi://pay?pa=shop@okbank&pn=My%20Shop&tr=ORD123&am=499.00&cu=INR'
 */
export function buildUpiLink(params: UpiLinkParams): string {
  check(params);
  const values: Partial<Record<(typeof ORDER)[number], string>> = {
    pa: params.payeeVpa,
    pn: params.payeeName,
    ...(params.merchantCode !== undefined ? { mc: params.merchantCode } : {}),
    ...(params.transactionId !== undefined ? { tid: params.transactionId } : {}),
    ...(params.transactionRef !== undefined ? { tr: params.transactionRef } : {}),
    ...(params.note !== undefined && params.note !== '' ? { tn: params.note } : {}),
    ...(params.amountPaise !== undefined ? { am: paiseToUpiAmount(params.amountPaise) } : {}),
    ...(params.minimumAmountPaise !== undefined ? { mam: paiseToUpiAmount(params.minimumAmountPaise) } : {}),
    ...(params.amountPaise !== undefined || params.currency !== undefined ? { cu: 'INR' } : {}),
    ...(params.url !== undefined ? { url: params.url } : {}),
  };
  const query = ORDER.filter((k) => values[k] !== undefined).map((k) => `${k}=${encodeUpiValue(values[k]!)}`);
  return `upi://pay?${query.join('&')}`;
}

/**
 * Parses a `upi://pay` link (one a PSP returned, or one a QR code carried). Values are percent-decoded
 * (`+` is kept as a plus: the spec encodes spaces as `%20`); `am`/`mam` become paise; a value of
 * `null` or empty counts as absent, as the spec says.
 * Parameter names are matched case-insensitively after percent-decoding, and a link that repeats one
 * (`am=1&am=1000`, `am=1&AM=1000`) is refused: which copy a payer's app reads is not defined.
 * @throws TenderError `invalid_request_error` for a link that is not `upi://pay`, lacks `pa`, repeats a
 *   parameter, has a malformed amount or a currency other than INR.
 */
export function parseUpiLink(link: string): ParsedUpiLink {
  const match = /^upi:\/\/pay\?(.*)$/is.exec(link);
  if (!match) throw invalidRequest('invalid_upi_link', 'not a upi://pay link', 'url');
  const raw: Array<readonly [string, string]> = [];
  const seen = new Set<string>();
  for (const part of match[1]!.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
      value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    } catch {
      throw invalidRequest('invalid_upi_link', `the parameter '${eq < 0 ? part : part.slice(0, eq)}' is not valid percent-encoding`, 'url');
    }
    // The spec defines each parameter once; apps differ on which copy of a repeated one they read
    // (first, last, case-insensitive), so a link that repeats one has no single meaning.
    const name = key.toLowerCase();
    if (seen.has(name)) throw invalidRequest('invalid_upi_link', `the link repeats the parameter '${name}'`, name);
    seen.add(name);
    raw.push([key, value] as const);
  }
  const get = (k: string): string | undefined => {
    const found = raw.find(([key]) => key.toLowerCase() === k)?.[1];
    return found === undefined || found === '' || found === 'null' ? undefined : found;
  };
  const pa = get('pa');
  if (!pa) throw invalidRequest('invalid_upi_link', 'the link has no payee address (pa)', 'pa');
  const cu = get('cu');
  if (cu !== undefined && cu !== 'INR') throw invalidRequest('currency_not_supported', `UPI links are INR only; got cu=${cu}`, 'cu');
  const am = get('am');
  const mam = get('mam');
  const parsed: ParsedUpiLink = { payeeVpa: pa, payeeName: get('pn') ?? '', raw };
  if (am !== undefined) parsed.amountPaise = upiAmountToPaise(am, 'am');
  if (mam !== undefined) parsed.minimumAmountPaise = upiAmountToPaise(mam, 'mam');
  const optional: Array<[keyof UpiLinkParams, string]> = [
    ['transactionRef', 'tr'],
    ['transactionId', 'tid'],
    ['note', 'tn'],
    ['merchantCode', 'mc'],
    ['url', 'url'],
  ];
  for (const [field, key] of optional) {
    const value = get(key);
    if (value !== undefined) (parsed as unknown as Record<string, unknown>)[field] = value;
  }
  if (cu !== undefined) parsed.currency = 'INR';
  return parsed;
}

/** Options of {@link createStaticUpiLink}. */
export interface StaticUpiLinkOptions {
  /** The merchant's own VPA (`shop@okbank`). */
  payeeVpa: string;
  /** The merchant's name. */
  payeeName: string;
  /** Amount in paise; absent lets the payer type one (a counter QR). */
  amountPaise?: number;
  /** Your reference (order id); non-alphanumeric characters are dropped (NPCI rule). */
  reference?: string;
  note?: string;
  merchantCode?: string;
}

/**
 * A static UPI link that needs no PSP: the payer's app pays the merchant's VPA directly.
 *
 * **Unverifiable without a PSP.** Nothing tells you the payment happened: no webhook, no status API,
 * no signature. The payer's app may let the amount be changed (when `am` is absent) and `tr` is a
 * hint the payer's app passes along, not a guarantee. Reconcile by `tr` against your bank statement
 * and never mark an order paid from a customer's "I paid" alone. Use {@link createUpiGateway} (a
 * PSP) whenever the payment must be confirmed automatically.
 */
export function createStaticUpiLink(options: StaticUpiLinkOptions): string {
  return buildUpiLink({
    payeeVpa: options.payeeVpa,
    payeeName: options.payeeName,
    ...(options.amountPaise !== undefined ? { amountPaise: options.amountPaise } : {}),
    ...(options.reference !== undefined ? { transactionRef: toUpiReference(options.reference) } : {}),
    ...(options.note !== undefined ? { note: options.note } : {}),
    ...(options.merchantCode !== undefined ? { merchantCode: options.merchantCode } : {}),
    currency: 'INR',
  });
}
