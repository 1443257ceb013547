/**
 * PayPal webhook signatures, verified offline: PayPal signs
 * `transmission_id|transmission_time|webhook_id|crc32(raw body)` with SHA256withRSA, and publishes the
 * signing certificate at the `PAYPAL-CERT-URL` it sends (https://developer.paypal.com/api/rest/webhooks/rest/). The URL is attacker-supplied, so it is fetched
 * only from PayPal's hosts under `/v1/notifications/certs/` over https, and the certificate must chain to
 * a public root CA, be valid now, and name `messageverificationcerts...paypal.com` (the rule of PayPal's
 * Java SDK, https://github.com/paypal/PayPal-Java-SDK/blob/master/rest-api-sdk/src/main/java/com/paypal/base/SSLUtil.java).
 *
 * @module
 */
import { createSign, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { crc32 } from 'node:zlib';
import { TenderError } from '@tender/core';
import { PAYPAL_CERT_HOSTS, PAYPAL_CERT_PATH_PREFIX, type PayPalCertTrust } from './config';
import { PAYPAL_KNOWN_INTERMEDIATES } from './intermediates';

/** The webhook headers PayPal sends (lower case, as Node delivers them). */
export const PAYPAL_WEBHOOK_HEADERS = Object.freeze({
  transmissionId: 'paypal-transmission-id',
  transmissionTime: 'paypal-transmission-time',
  transmissionSig: 'paypal-transmission-sig',
  certUrl: 'paypal-cert-url',
  authAlgo: 'paypal-auth-algo',
});

/** Codes of the `webhook_signature_error`s raised here. */
export type PayPalSignatureErrorCode =
  | 'missing_header'
  | 'unsupported_auth_algo'
  | 'stale_timestamp'
  | 'cert_url_not_allowed'
  | 'cert_untrusted'
  | 'cert_expired'
  | 'signature_mismatch';

function refuse(code: PayPalSignatureErrorCode, message: string): TenderError {
  return new TenderError({ type: 'webhook_signature_error', code, message: `PayPal webhook ${message}` });
}

/** CRC-32 (IEEE, as zlib) of the raw body, as the unsigned decimal PayPal signs. */
export function paypalCrc32(body: Uint8Array): string {
  return String(crc32(body) >>> 0);
}

/** The string PayPal signs for one delivery. */
export function paypalSignedMessage(transmissionId: string, transmissionTime: string, webhookId: string, body: Uint8Array): string {
  return `${transmissionId}|${transmissionTime}|${webhookId}|${paypalCrc32(body)}`;
}

/** Signs like PayPal (SHA256withRSA, base64); the sandbox uses it. */
export function signPayPalWebhook(input: { transmissionId: string; transmissionTime: string; webhookId: string; body: Uint8Array; privateKeyPem: string }): string {
  const signer = createSign('RSA-SHA256');
  signer.update(paypalSignedMessage(input.transmissionId, input.transmissionTime, input.webhookId, input.body));
  return signer.sign(input.privateKeyPem, 'base64');
}

/** The headers of one delivery, read case-insensitively. */
export interface PayPalTransmission {
  transmissionId: string;
  transmissionTime: string;
  transmissionSig: string;
  certUrl: string;
  authAlgo: string;
}

/**
 * Reads the transmission headers.
 * @throws TenderError `webhook_signature_error` `missing_header`.
 */
export function readTransmission(headers: Record<string, string | string[] | undefined>): PayPalTransmission {
  const get = (name: string): string => {
    const direct = headers[name] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
    const value = Array.isArray(direct) ? direct[0] : direct;
    if (typeof value !== 'string' || value.trim() === '') throw refuse('missing_header', `has no ${name.toUpperCase()} header`);
    return value.trim();
  };
  const h = PAYPAL_WEBHOOK_HEADERS;
  return { transmissionId: get(h.transmissionId), transmissionTime: get(h.transmissionTime), transmissionSig: get(h.transmissionSig), certUrl: get(h.certUrl), authAlgo: get(h.authAlgo) };
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Refuses a transmission time older than `maxAgeSeconds` or later than `maxFutureSeconds` from `now`.
 * @throws TenderError `webhook_signature_error` `stale_timestamp`.
 */
export function checkTransmissionTime(time: string, now: Date, maxAgeSeconds: number, maxFutureSeconds: number): void {
  // RFC 3339 `date-time` (https://www.rfc-editor.org/rfc/rfc3339#section-5.6), offset required:
  // without one, Date.parse reads the time in the server's own time zone, so the age window would
  // move with the machine's TZ. Impossible dates (Feb 31) are refused rather than rolled over.
  const parts = RFC3339.exec(time);
  const at = Date.parse(time);
  const realDay = parts !== null && new Date(Date.UTC(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3]))).getUTCDate() === Number(parts[3]);
  if (!parts || !realDay || Number.isNaN(at)) throw refuse('stale_timestamp', `transmission time '${time}' is not an RFC 3339 date-time with an offset`);
  const age = (now.getTime() - at) / 1000;
  if (maxAgeSeconds > 0 && age > maxAgeSeconds) throw refuse('stale_timestamp', `transmission time ${time} is older than ${maxAgeSeconds} s`);
  if (-age > maxFutureSeconds) throw refuse('stale_timestamp', `transmission time ${time} is more than ${maxFutureSeconds} s in the future`);
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** One certificate name: letters, digits, `-`, `_` and inner dots (never `..`). */
const CERT_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/**
 * Checks a `PAYPAL-CERT-URL` before anything is fetched: `https:`, no user info, no query, a PayPal
 * host of the mode (no port), and a path under `/v1/notifications/certs/`. `trust.hosts` adds hosts
 * (`host:port`); `trust.allowHttpLoopback` lets `http:` through for loopback hosts listed there.
 * @throws TenderError `webhook_signature_error` `cert_url_not_allowed`.
 */
export function checkCertUrl(raw: string, mode: 'sandbox' | 'live', trust?: PayPalCertTrust): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('cert_url_not_allowed', 'cert URL is not a URL');
  }
  const extra = new Set((trust?.hosts ?? []).map((h) => h.toLowerCase()));
  const hostWithPort = url.host.toLowerCase();
  const paypalHost = url.port === '' && (PAYPAL_CERT_HOSTS[mode] as readonly string[]).includes(url.hostname.toLowerCase());
  const trustedHost = paypalHost || extra.has(hostWithPort);
  const protocolOk = url.protocol === 'https:' || (url.protocol === 'http:' && trust?.allowHttpLoopback === true && LOOPBACK.has(url.hostname.toLowerCase()) && extra.has(hostWithPort));
  // An empty `?` or `#` leaves `search`/`hash` empty, so the href itself is checked for them.
  // The certificate name is one path segment of plain characters (PayPal's are `CERT-360caa42-...`):
  // no `%` escapes a server could decode into `../` or `/`, no further segments, no `;` parameters.
  const certName = url.pathname.startsWith(PAYPAL_CERT_PATH_PREFIX) ? url.pathname.slice(PAYPAL_CERT_PATH_PREFIX.length) : '';
  // Only the canonical spelling is taken (what PayPal sends): the WHATWG parser silently rewrites
  // backslashes, upper case, tabs, `:443`, `https:host`, numeric IPv4 forms, an empty `?` or `#`, so
  // a header that needs any rewriting is not a URL PayPal sent.
  const canonical = raw === url.href;
  if (!canonical || !protocolOk || !trustedHost || url.username !== '' || url.password !== '' || /[?#]/.test(url.href) || !CERT_NAME.test(certName)) {
    throw refuse('cert_url_not_allowed', `cert URL ${url.protocol}//${url.host}${url.pathname} is not a PayPal certificate URL`);
  }
  return url;
}

let publicRoots: X509Certificate[] | undefined;
let knownIntermediates: X509Certificate[] | undefined;

/** Splits a PEM bundle into certificates (leaf first). */
export function parsePemBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

const commonNames = (cert: X509Certificate): string[] =>
  cert.subject
    .split('\n')
    .filter((line) => line.startsWith('CN='))
    .map((line) => line.slice(3));

/** PayPal's signing-certificate subject rule: `CN=messageverificationcerts...paypal.com`. */
export function isPayPalSigningSubject(cert: X509Certificate): boolean {
  return commonNames(cert).some((cn) => cn.startsWith('messageverificationcerts') && cn.endsWith('.paypal.com'));
}

function validAt(cert: X509Certificate, now: Date): boolean {
  return Date.parse(cert.validFrom) <= now.getTime() && now.getTime() <= Date.parse(cert.validTo);
}

const issuedBy = (child: X509Certificate, parent: X509Certificate): boolean => child.checkIssued(parent) && child.verify(parent.publicKey);

/** A verified signing certificate and the time window in which its whole chain is valid. */
export interface VerifiedPayPalCertificate {
  leaf: X509Certificate;
  /** Latest `validFrom` on the chain (ms since the epoch). */
  notBefore: number;
  /** Earliest `validTo` on the chain (ms since the epoch). */
  notAfter: number;
}

/**
 * {@link verifyCertificateChain}, also answering the window in which every certificate of the chain
 * (leaf, intermediates, anchor) is valid, so a caller may reuse the result for as long as `now` stays
 * inside it.
 * @throws TenderError `webhook_signature_error` `cert_untrusted` or `cert_expired`.
 */
export function verifyCertificateChainWindow(pem: string, now: Date, extraAnchorsPem: readonly string[] = []): VerifiedPayPalCertificate {
  let certs: X509Certificate[];
  try {
    certs = parsePemBundle(pem);
  } catch {
    throw refuse('cert_untrusted', 'certificate is not a PEM certificate');
  }
  const leaf = certs[0];
  if (!leaf) throw refuse('cert_untrusted', 'certificate URL served no PEM certificate');
  if (!isPayPalSigningSubject(leaf)) throw refuse('cert_untrusted', `certificate subject '${commonNames(leaf).join(', ')}' is not messageverificationcerts...paypal.com`);
  publicRoots ??= rootCertificates.map((p) => new X509Certificate(p));
  knownIntermediates ??= PAYPAL_KNOWN_INTERMEDIATES.map((p) => new X509Certificate(p));
  const anchors = [...extraAnchorsPem.flatMap(parsePemBundle), ...publicRoots];
  const pool = [...certs.slice(1), ...knownIntermediates].filter((c) => c.ca);
  let notBefore = -Infinity;
  let notAfter = Infinity;
  const within = (cert: X509Certificate) => {
    notBefore = Math.max(notBefore, Date.parse(cert.validFrom));
    notAfter = Math.min(notAfter, Date.parse(cert.validTo));
  };
  let current = leaf;
  for (let depth = 0; depth < 6; depth++) {
    if (!validAt(current, now)) throw refuse('cert_expired', `certificate '${commonNames(current).join(', ') || current.subject}' is not valid at ${now.toISOString()} (valid ${current.validFrom} to ${current.validTo})`);
    within(current);
    if (anchors.some((a) => a.fingerprint256 === current.fingerprint256)) return { leaf, notBefore, notAfter };
    const anchor = anchors.find((a) => issuedBy(current, a));
    if (anchor) {
      if (!validAt(anchor, now)) throw refuse('cert_expired', 'the root certificate is not valid now');
      within(anchor);
      return { leaf, notBefore, notAfter };
    }
    const next = pool.find((c) => c.fingerprint256 !== current.fingerprint256 && issuedBy(current, c));
    if (!next) break;
    current = next;
  }
  throw refuse('cert_untrusted', 'certificate does not chain to a trusted root');
}

/**
 * Verifies a downloaded certificate bundle: the leaf names a PayPal signing subject, every certificate
 * on the way is valid at `now`, and the chain (bundle certificates and the built-in intermediates)
 * ends at a trust anchor: Node's public root CAs plus `extraAnchorsPem`.
 * @returns the leaf certificate.
 * @throws TenderError `webhook_signature_error` `cert_untrusted` or `cert_expired`.
 */
export function verifyCertificateChain(pem: string, now: Date, extraAnchorsPem: readonly string[] = []): X509Certificate {
  return verifyCertificateChainWindow(pem, now, extraAnchorsPem).leaf;
}

/**
 * Refuses a `PAYPAL-AUTH-ALGO` other than `SHA256withRSA` (the only algorithm PayPal signs with).
 * Checked before the certificate is fetched, so a delivery that cannot verify costs no request.
 * @throws TenderError `webhook_signature_error` `unsupported_auth_algo`.
 */
export function checkAuthAlgo(authAlgo: string): void {
  if (authAlgo !== 'SHA256withRSA') throw refuse('unsupported_auth_algo', `auth algorithm '${authAlgo}' is not SHA256withRSA`);
}

/**
 * Verifies the RSA signature of a delivery with the leaf certificate's public key.
 * @throws TenderError `webhook_signature_error` `unsupported_auth_algo` or `signature_mismatch`.
 */
export function verifyTransmissionSignature(transmission: PayPalTransmission, webhookId: string, rawBody: Uint8Array, leaf: X509Certificate): void {
  checkAuthAlgo(transmission.authAlgo);
  const message = Buffer.from(paypalSignedMessage(transmission.transmissionId, transmission.transmissionTime, webhookId, rawBody), 'utf8');
  const signature = Buffer.from(transmission.transmissionSig, 'base64');
  let ok = false;
  try {
    ok = cryptoVerify('sha256', message, leaf.publicKey, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw refuse('signature_mismatch', 'signature does not verify (body, webhook id or certificate differ)');
}
