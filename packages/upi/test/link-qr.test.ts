/**
 * NPCI upi://pay links (build, parse, encoding, amount grammar, VPA form) and QR codes decoded back to
 * the same link with a real QR decoder (jsQR) from the PNG (pngjs) and from the SVG (rasterised here).
 */
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { UPI_VPA } from '@tender/core';
import { buildUpiLink, createStaticUpiLink, encodeUpiValue, isValidVpa, paiseToUpiAmount, parseUpiLink, toUpiReference, upiAmountToPaise, upiQrPngDataUrl, upiQrSvg } from '@tender/upi';

function decodePng(dataUrl: string): string | null {
  expect(dataUrl.startsWith('data:image/png;base64,')).toBe(true);
  const png = PNG.sync.read(Buffer.from(dataUrl.slice('data:image/png;base64,'.length), 'base64'));
  return jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength), png.width, png.height)?.data ?? null;
}

/** Rasterises qrcode's SVG (`M x y.5 h n m dx dy` strokes of one module) and decodes it. */
function decodeSvg(svg: string): string | null {
  const size = Number(/viewBox="0 0 (\d+) \1"/.exec(svg)![1]);
  const d = /<path stroke="#000000" d="([^"]+)"/.exec(svg)![1]!;
  const dark = new Set<string>();
  let x = 0;
  let y = 0;
  for (const [, cmd, a, b] of d.matchAll(/([MmHh])(-?[\d.]+)(?:\s(-?[\d.]+))?/g)) {
    if (cmd === 'M') [x, y] = [Number(a), Number(b)];
    else if (cmd === 'm') [x, y] = [x + Number(a), y + Number(b)];
    else {
      const n = Number(a);
      for (let i = 0; i < n; i++) dark.add(`${x + i},${Math.floor(y)}`);
      x += n;
    }
  }
  const scale = 4;
  const w = size * scale;
  const data = new Uint8ClampedArray(w * w * 4);
  for (let py = 0; py < w; py++) {
    for (let px = 0; px < w; px++) {
      const v = dark.has(`${Math.floor(px / scale)},${Math.floor(py / scale)}`) ? 0 : 255;
      data.set([v, v, v, 255], (py * w + px) * 4);
    }
  }
  return jsQR(data, w, w)?.data ?? null;
}

describe('upi://pay links', () => {
  it('builds the parameters in order, %20 for spaces, amount as rupees with two decimals', () => {
    const link = buildUpiLink({ payeeVpa: 'shop@okbank', payeeName: 'My Shop', amountPaise: 49900, transactionRef: 'ORD123', note: 'Order 123', merchantCode: '5411' });
    expect(link).toBe('upi://pay?pa=shop@okbank&pn=My%20Shop&mc=5411&tr=ORD123&tn=Order%20123&am=499.00&cu=INR');
  });

  it("parses NPCI's spec example (mam=null is absent, url kept whole)", () => {
    const parsed = parseUpiLink(
      'upi://pay?pa=nadeem@npci&pn=nadeem%20chinna&mc=0000&tid=cxnkjcnkjdfdvjndkjfvn&tr=4894398cndhcd23&tn=Pay%20to%20mystar%20store&am=10&mam=null&cu=INR&url=https://mystar.com/orderid=9298yw89e8973e87389e78923ue892',
    );
    expect(parsed).toMatchObject({
      payeeVpa: 'nadeem@npci',
      payeeName: 'nadeem chinna',
      merchantCode: '0000',
      transactionId: 'cxnkjcnkjdfdvjndkjfvn',
      transactionRef: '4894398cndhcd23',
      note: 'Pay to mystar store',
      amountPaise: 1000,
      currency: 'INR',
      url: 'https://mystar.com/orderid=9298yw89e8973e87389e78923ue892',
    });
    expect(parsed.minimumAmountPaise).toBeUndefined();
  });

  it("parses a Razorpay intent link and rebuilds it from its parameters", () => {
    const link = 'upi://pay?pa=upi@razopay&pn=acme&tr=QTeEWVyigzIBlUD&tn=razorpay&am=100&cu=INR&mc=5411';
    const parsed = parseUpiLink(link);
    expect(parsed).toMatchObject({ payeeVpa: 'upi@razopay', payeeName: 'acme', transactionRef: 'QTeEWVyigzIBlUD', note: 'razorpay', amountPaise: 10000, merchantCode: '5411' });
    const rebuilt = buildUpiLink(parsed);
    expect(parseUpiLink(rebuilt)).toMatchObject({ payeeVpa: 'upi@razopay', amountPaise: 10000, transactionRef: 'QTeEWVyigzIBlUD', note: 'razorpay', merchantCode: '5411' });
  });

  it('round-trips names and notes with reserved and non-ASCII characters', () => {
    for (const name of ['A & B = C + D', 'Café #1 ?100%', "Ram's Shop (Delhi)", 'राम स्टोर']) {
      const link = buildUpiLink({ payeeVpa: 'ram.store-1@okicici', payeeName: name, note: name.slice(0, 50), amountPaise: 1 });
      const pn = /pn=([^&]*)/.exec(link)![1]!;
      expect(pn).toMatch(/^[A-Za-z0-9%@._~-]+$/);
      const parsed = parseUpiLink(link);
      expect(parsed.payeeName).toBe(name);
      expect(parsed.note).toBe(name.slice(0, 50));
      expect(parsed.amountPaise).toBe(1);
    }
    expect(encodeUpiValue('a b+c&d=e@f')).toBe('a%20b%2Bc%26d%3De@f');
    // A literal '+' in a received link is a plus, not a space.
    expect(parseUpiLink('upi://pay?pa=a1@b&pn=A+B').payeeName).toBe('A+B');
  });

  it('amount grammar: integer paise to rupees and back, no floats', () => {
    expect(paiseToUpiAmount(5)).toBe('0.05');
    expect(paiseToUpiAmount(100)).toBe('1.00');
    expect(paiseToUpiAmount(1_00_000_00)).toBe('100000.00');
    expect(paiseToUpiAmount(1999)).toBe('19.99');
    expect(upiAmountToPaise('10')).toBe(1000);
    expect(upiAmountToPaise('1.5')).toBe(150);
    expect(upiAmountToPaise('499.00')).toBe(49900);
    expect(upiAmountToPaise('0.29')).toBe(29);
    for (const bad of ['1.234', '-1', '1e3', '01', '1,000', ' 1', '1.', '.5', '', 'NaN']) {
      expect(() => upiAmountToPaise(bad), bad).toThrow(expect.objectContaining({ code: 'invalid_upi_amount' }));
    }
    expect(() => parseUpiLink('upi://pay?pa=a1@b&am=1.001')).toThrow(expect.objectContaining({ param: 'am' }));
    expect(() => paiseToUpiAmount(1.5)).toThrow();
  });

  it('refuses what the spec forbids: a bad VPA, non-INR, non-alphanumeric tr, long notes', () => {
    expect(() => buildUpiLink({ payeeVpa: 'no-at-sign', payeeName: 'X' })).toThrow(expect.objectContaining({ param: 'pa' }));
    expect(() => buildUpiLink({ payeeVpa: 'a1@bk', payeeName: '' })).toThrow(expect.objectContaining({ param: 'pn' }));
    expect(() => buildUpiLink({ payeeVpa: 'a1@bk', payeeName: 'X', transactionRef: 'ORD-1' })).toThrow(expect.objectContaining({ param: 'tr' }));
    expect(() => buildUpiLink({ payeeVpa: 'a1@bk', payeeName: 'X', note: 'x'.repeat(51) })).toThrow(expect.objectContaining({ param: 'tn' }));
    expect(() => buildUpiLink({ payeeVpa: 'a1@bk', payeeName: 'X', amountPaise: 0 })).toThrow(expect.objectContaining({ param: 'am' }));
    expect(() => buildUpiLink({ payeeVpa: 'a1@bk', payeeName: 'X', merchantCode: '54111' })).toThrow(expect.objectContaining({ param: 'mc' }));
    expect(() => buildUpiLink({ payeeVpa: 'a1@bk', payeeName: 'X', currency: 'USD' as 'INR' })).toThrow(expect.objectContaining({ param: 'cu' }));
    expect(() => parseUpiLink('upi://pay?pa=a1@b&cu=USD&am=1')).toThrow(expect.objectContaining({ code: 'currency_not_supported' }));
    expect(() => parseUpiLink('https://example.com/?pa=a1@b')).toThrow(expect.objectContaining({ code: 'invalid_upi_link' }));
    expect(() => parseUpiLink('upi://pay?pn=x')).toThrow(expect.objectContaining({ param: 'pa' }));
  });

  it("VPA form is core's UPI_VPA", () => {
    for (const ok of ['success@razorpay', 'ram.kumar-1_x@okhdfcbank', '9876543210@ybl']) expect(isValidVpa(ok), ok).toBe(true);
    for (const bad of ['@razorpay', 'a@', 'a@@bank', 'a@b', 'a b@okbank', 'ab@ok-bank', '.ab@okbank', 'ab@1bank', 'ab@okbank.com']) {
      expect(isValidVpa(bad), bad).toBe(false);
      expect(UPI_VPA.test(bad)).toBe(false);
    }
  });

  it('static link: merchant VPA only, alphanumeric tr derived from the order reference', () => {
    expect(toUpiReference('ORD-2026/00042')).toBe('ORD202600042');
    const link = createStaticUpiLink({ payeeVpa: 'corner.shop@okaxis', payeeName: 'Corner Shop', amountPaise: 25050, reference: 'ORD-2026/00042' });
    expect(link).toBe('upi://pay?pa=corner.shop@okaxis&pn=Corner%20Shop&tr=ORD202600042&am=250.50&cu=INR');
    const open = createStaticUpiLink({ payeeVpa: 'corner.shop@okaxis', payeeName: 'Corner Shop' });
    expect(parseUpiLink(open).amountPaise).toBeUndefined();
    expect(open).toBe('upi://pay?pa=corner.shop@okaxis&pn=Corner%20Shop&cu=INR');
  });
});

describe('UPI QR codes', () => {
  const links = [
    buildUpiLink({ payeeVpa: 'shop@okbank', payeeName: 'My Shop & Co', amountPaise: 49900, transactionRef: 'ORD123', note: 'Order 123' }),
    'upi://pay?pa=upi@razopay&pn=acme&tr=QTeEWVyigzIBlUD&tn=razorpay&am=100&cu=INR&mc=5411',
    createStaticUpiLink({ payeeVpa: 'राम@okbank'.replace('राम', 'ram'), payeeName: 'राम स्टोर' }),
  ];

  it('the PNG data URL decodes back to the exact link', async () => {
    for (const link of links) expect(decodePng(await upiQrPngDataUrl(link))).toBe(link);
  });

  it('the SVG decodes back to the exact link', async () => {
    for (const link of links) {
      const svg = await upiQrSvg(link);
      expect(svg.startsWith('<svg')).toBe(true);
      expect(decodeSvg(svg)).toBe(link);
    }
  });

  it('a different link gives a different code (the decoder is really reading it)', async () => {
    expect(decodePng(await upiQrPngDataUrl(links[0]!))).not.toBe(links[1]);
  });
});

describe('hostile names and notes', () => {
  it('round-trips any printable pn/tn (fast-check), and refuses what would not survive or could spoof the display with a typed error', async () => {
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 20 }), (pn, tn) => {
        let link: string;
        try {
          link = buildUpiLink({ payeeVpa: 'shop@okbank', payeeName: pn, note: tn, amountPaise: 100 });
        } catch (e) {
          expect(e).toMatchObject({ type: 'invalid_request_error' });
          return;
        }
        const parsed = parseUpiLink(link);
        expect(parsed.payeeName).toBe(pn);
        expect(parsed.note ?? '').toBe(tn);
        expect(parsed.amountPaise).toBe(100);
      }),
      { seed: 7, numRuns: 1500 },
    );
    const bad: Array<[Partial<Parameters<typeof buildUpiLink>[0]>, string]> = [
      [{ payeeName: 'Shop\nPaid' }, 'pn'],
      [{ payeeName: 'Shop\r' }, 'pn'],
      [{ payeeName: 'Shop\u0000' }, 'pn'],
      [{ payeeName: '\uD800Shop' }, 'pn'],
      [{ payeeName: 'Shop \u202Etxet' }, 'pn'],
      [{ payeeName: 'null' }, 'pn'],
      [{ note: 'a\tb' }, 'tn'],
      [{ note: 'null' }, 'tn'],
      [{ note: '\uDC00' }, 'tn'],
    ];
    for (const [override, param] of bad) {
      expect(() => buildUpiLink({ payeeVpa: 'shop@okbank', payeeName: 'Shop', amountPaise: 100, ...override }), JSON.stringify(override)).toThrow(
        expect.objectContaining({ type: 'invalid_request_error', param }),
      );
    }
  });
});
