/**
 * UPI QR codes: the `upi://pay` link itself encoded as a QR code (NPCI UPI Linking Specifications 1.6,
 * section 2.2, public copy at https://studylib.net/doc/27265723/upi.linking.specs-ver.1.6:
 * build a compliant URL, then make a QR code of that URL), rendered with the `qrcode` library
 * (https://github.com/soldair/node-qrcode) as a PNG data URL or an SVG document.
 *
 * @module
 */
import QRCode from 'qrcode';

/** Rendering options of {@link upiQrPngDataUrl} and {@link upiQrSvg}. */
export interface UpiQrOptions {
  /** Error correction level; default `M` (what payment QR codes commonly use). */
  errorCorrectionLevel?: 'L' | 'M' | 'Q' | 'H';
  /** Pixels per module (PNG only); default 6. */
  scale?: number;
  /** Quiet zone in modules; default 4 (the QR standard's minimum). */
  margin?: number;
}

const defaults = (o: UpiQrOptions) => ({ errorCorrectionLevel: o.errorCorrectionLevel ?? 'M', margin: o.margin ?? 4 });

/** The link as a QR code PNG, as a `data:image/png;base64,...` URL (the `qrCode` of a `upi_intent` next action). */
export async function upiQrPngDataUrl(link: string, options: UpiQrOptions = {}): Promise<string> {
  return QRCode.toDataURL(link, { ...defaults(options), type: 'image/png', scale: options.scale ?? 6 });
}

/** The link as a QR code SVG document (scalable, for print and web pages). */
export async function upiQrSvg(link: string, options: UpiQrOptions = {}): Promise<string> {
  return QRCode.toString(link, { ...defaults(options), type: 'svg' });
}
