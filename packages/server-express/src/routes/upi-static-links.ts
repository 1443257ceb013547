/**
 * `POST /upi/static-links`: a UPI link and QR code paying the merchant's own VPA directly (set by
 * `upiStaticLinks` of the router options; 404 without it).
 *
 * @module
 */
import { TenderError } from '@tender/core';
import { createStaticUpiLink, upiQrPngDataUrl, upiQrSvg } from '@tender/upi';
import type { Router } from 'express';
import { StaticUpiLinkBody, validate } from '../schemas';
import type { RouteContext } from './shared';

/** Adds the static UPI link route to the authenticated API router. */
export function upiStaticLinkRoutes(api: Router, { options, need }: RouteContext): void {
  // A static UPI link pays the merchant's VPA directly: no PSP sees it, so nothing can confirm it and
  // no payment is recorded; the merchant reconciles by `tr` against the bank statement.
  api.post('/upi/static-links', need('payments:write'), async (req, res) => {
    const body = validate(StaticUpiLinkBody, req.body);
    const payee = options.upiStaticLinks;
    if (!payee) {
      throw new TenderError({ type: 'invalid_request_error', code: 'static_links_not_configured', status: 404, message: 'Static UPI links are off: set UPI_MERCHANT_VPA and UPI_MERCHANT_NAME' });
    }
    const link = createStaticUpiLink({
      ...payee,
      ...(body.amount_paisa != null ? { amountPaise: Number(body.amount_paisa) } : {}),
      ...(body.reference != null ? { reference: body.reference } : {}),
      ...(body.note != null ? { note: body.note } : {}),
    });
    res.status(201).json({
      object: 'upi_static_link',
      payment_url: link,
      qr_code: await upiQrPngDataUrl(link),
      qr_svg: await upiQrSvg(link),
      verifiable: false,
      warning: 'No PSP sees a static link: nothing confirms that it was paid, and no payment is recorded. Reconcile by the reference (tr) against your bank statement; use a UPI payment (POST /api/v1/payments) when it must be confirmed.',
    });
  });
}
