/**
 * The channel catalogue: Tender payment-method names mapped to Fiuu's hosted-page `channel`
 * parameter, the seamless `mpschannel` code, and the names Fiuu sends back (which differ between
 * the return URL and the notification/callback, and in case). Source: Fiuu API Spec v13.86 (p.24–37,
 * p.44–48, p.59–63), Fiuu Direct Server API v1.7.7 (Appendix C), and the seamless codes of Fiuu's
 * official WooCommerce plugin (github.com/FiuuPayment/Shopping-Cart-Plugins-Fiuu_WooCommerce).
 *
 * @module
 */
import { invalidRequest } from '@tender/core';

/** Country a channel serves. */
export type FiuuCountry = 'MY' | 'SG' | 'PH' | 'TH' | 'VN' | 'ID';

/** Broad kind of a channel. */
export type FiuuChannelKind = 'card' | 'bank' | 'ewallet' | 'qr' | 'bnpl' | 'cash';

/** One payment channel. */
export interface FiuuChannel {
  /** Tender `payment_method` name (upper case), e.g. `FPX`, `FPX_MB2U`, `GRABPAY`, `TNG`. */
  method: string;
  /** Human name. */
  name: string;
  kind: FiuuChannelKind;
  countries: readonly FiuuCountry[];
  currencies: readonly string[];
  /** Hosted-page `channel` parameter. */
  hosted: string;
  /** Seamless `mpschannel` code (differs from the hosted one for FPX banks, cards). */
  seamless: string;
  /** Other names Fiuu sends back in `channel` (return URL, notification, requery, Direct Server). */
  aliases: readonly string[];
  /** Name sent back on the return URL (used by the sandbox). */
  returnName: string;
  /** Name sent back on the notification / callback (used by the sandbox). */
  notifyName: string;
  /** Minimum amount (exclusive), as the spec states it, when there is one. */
  minAmount?: string;
  /** Other method names that select a per-currency variant of this one (e.g. `GRABPAY` + SGD). */
  group?: string;
  /** Pre-authorisation (`tcctype=AUTH`) possible. */
  preAuth?: boolean;
}

const MY = ['MY'] as const;
const MYR = ['MYR'] as const;

function ch(c: Omit<FiuuChannel, 'seamless' | 'aliases' | 'returnName' | 'notifyName'> & Partial<FiuuChannel>): FiuuChannel {
  return { seamless: c.hosted, aliases: [], returnName: c.hosted, notifyName: c.hosted, ...c };
}

/** FPX B2C banks: [suffix, name, legacy notify name, return name, seamless code]. */
const FPX_BANKS: ReadonlyArray<readonly [string, string, string, string, string]> = [
  ['MB2U', 'Maybank2u', 'maybank2u', 'MB2u', 'fpx_mb2u'],
  ['CIMBCLICKS', 'CIMB Clicks', 'cimb', 'CIMB-Clicks', 'fpx_cimbclicks'],
  ['PBB', 'Public Bank', 'publicbank', 'FPX_PBB', 'fpx_pbb'],
  ['HLB', 'Hong Leong Bank', 'hlb', 'FPX_HLB', 'fpx_hlb'],
  ['RHB', 'RHB Bank', 'rhb', 'FPX_RHB', 'fpx_rhb'],
  ['AMB', 'AmBank', 'amb', 'FPX_AMB', 'fpx_amb'],
  ['BIMB', 'Bank Islam', 'bankislam', 'FPX_BIMB', 'fpx_bimb'],
  ['OCBC', 'OCBC Bank', 'ocbc', 'FPX_OCBC', 'fpx_ocbc'],
  ['SCB', 'Standard Chartered', 'scb', 'FPX_SCB', 'fpx_scb'],
  ['ABB', 'Affin Bank', 'abb', 'FPX_ABB', 'fpx_abb'],
  ['BKRM', 'Bank Rakyat', 'bkrm', 'FPX_BKRM', 'fpx_bkrm'],
  ['BMMB', 'Bank Muamalat', 'muamalat', 'FPX_BMMB', 'fpx_bmmb'],
  ['KFH', 'Kuwait Finance House', 'kfh', 'FPX_KFH', 'fpx_kfh'],
  ['BSN', 'Bank Simpanan Nasional', 'bsn', 'FPX_BSN', 'fpx_bsn'],
  ['ABMB', 'Alliance Bank', 'abmb', 'FPX_ABMB', 'fpx_abmb'],
  ['UOB', 'UOB', 'uob', 'FPX_UOB', 'fpx_uob'],
  ['HSBC', 'HSBC', 'hsbc', 'FPX_HSBC', 'fpx_hsbc'],
  ['AGROBANK', 'Agrobank', 'agrobank', 'FPX_AGROBANK', 'FPX_AGROBANK'],
  ['BOCM', 'Bank of China', 'bocm', 'FPX_BOCM', 'FPX_BOCM'],
];

const FPX_B2B_BANKS = ['AMB', 'HLB', 'UOB', 'ABB', 'CIMB', 'BIMB', 'PBB', 'RHB', 'HSBC', 'BNP', 'ABBM', 'CITIBANK', 'BKRM', 'PBBE', 'UOBR', 'AGROBANK'];

/** Every channel Tender knows, in catalogue order. */
export const FIUU_CHANNELS: readonly FiuuChannel[] = [
  // Malaysia
  ch({ method: 'CARD', name: 'Visa / Mastercard', kind: 'card', countries: MY, currencies: MYR, hosted: 'credit', seamless: 'creditAN', returnName: 'Credit', notifyName: 'credit', aliases: ['creditAN', 'CREDITAN', 'creditAB', 'creditT', 'creditAI', 'CREDITZ', 'CREDIT7'], preAuth: true }),
  ch({ method: 'CARD_SG', group: 'CARD', name: 'Visa / Mastercard (SG)', kind: 'card', countries: ['SG'], currencies: ['SGD'], hosted: 'creditAN', returnName: 'Credit', notifyName: 'credit', preAuth: true }),
  ch({ method: 'CARD_PH', group: 'CARD', name: 'Visa / Mastercard (PH)', kind: 'card', countries: ['PH'], currencies: ['PHP'], hosted: 'creditAN', returnName: 'Credit', notifyName: 'credit', preAuth: true }),
  ch({ method: 'FPX', name: 'FPX online banking', kind: 'bank', countries: MY, currencies: MYR, hosted: 'fpx', returnName: 'FPX', notifyName: 'fpx', minAmount: '1.00' }),
  ...FPX_BANKS.map(([suffix, name, notify, ret, seamless]) =>
    ch({ method: `FPX_${suffix}`, group: 'FPX', name: `FPX ${name}`, kind: 'bank', countries: MY, currencies: MYR, hosted: `FPX_${suffix}`, seamless, returnName: ret, notifyName: notify, minAmount: '1.00' }),
  ),
  ...FPX_B2B_BANKS.map((bank) =>
    ch({ method: `FPX_B2B_${bank}`, group: 'FPX_B2B', name: `FPX Business ${bank}`, kind: 'bank', countries: MY, currencies: MYR, hosted: `FPX_B2B_${bank}`, aliases: ['FPX_B2B'], minAmount: '2.00' }),
  ),
  ch({ method: 'FPX_M2E', group: 'FPX_B2B', name: 'FPX Business Maybank2e', kind: 'bank', countries: MY, currencies: MYR, hosted: 'FPX_M2E', minAmount: '2.00' }),
  ch({ method: 'GRABPAY', name: 'GrabPay', kind: 'ewallet', countries: MY, currencies: MYR, hosted: 'GrabPay' }),
  ch({ method: 'GRABPAY_SG', group: 'GRABPAY', name: 'GrabPay (SG)', kind: 'ewallet', countries: ['SG'], currencies: ['SGD'], hosted: 'GrabPay_SG' }),
  ch({ method: 'GRABPAY_PH', group: 'GRABPAY', name: 'GrabPay (PH)', kind: 'ewallet', countries: ['PH'], currencies: ['PHP'], hosted: 'GrabPay_PH', aliases: ['PN_GRABPAY'] }),
  ch({ method: 'TNG', name: "Touch 'n Go eWallet", kind: 'ewallet', countries: MY, currencies: MYR, hosted: 'TNG-EWALLET', aliases: ['ALIPAYPLUS_TNG', 'TNG_MINIAPP'] }),
  ch({ method: 'SHOPEEPAY', name: 'ShopeePay', kind: 'ewallet', countries: ['MY', 'PH'], currencies: ['MYR', 'PHP'], hosted: 'ShopeePay' }),
  ch({ method: 'BOOST', name: 'Boost', kind: 'ewallet', countries: MY, currencies: MYR, hosted: 'BOOST' }),
  ch({ method: 'MAE_QR', name: 'Maybank QRPay (MAE)', kind: 'qr', countries: MY, currencies: MYR, hosted: 'MB2U_QRPay-Push' }),
  ch({ method: 'DUITNOW_QR', name: 'DuitNow QR', kind: 'qr', countries: MY, currencies: MYR, hosted: 'RPP_DuitNowQR' }),
  ch({ method: 'ATOME', name: 'Atome', kind: 'bnpl', countries: ['MY', 'SG', 'PH', 'TH'], currencies: ['MYR', 'SGD', 'PHP', 'THB'], hosted: 'Atome', minAmount: '10.00' }),
  ch({ method: 'SHOPBACK', name: 'ShopBack PayLater', kind: 'bnpl', countries: MY, currencies: MYR, hosted: 'ShopBack' }),
  ch({ method: 'RAZERPAY', name: 'Razer Pay', kind: 'ewallet', countries: MY, currencies: MYR, hosted: 'RazerPay' }),
  ch({ method: 'WECHATPAY_MY', name: 'WeChat Pay MY', kind: 'ewallet', countries: MY, currencies: MYR, hosted: 'WeChatPayMY' }),
  // Singapore
  ch({ method: 'PAYNOW', name: 'PayNow', kind: 'qr', countries: ['SG'], currencies: ['SGD'], hosted: 'PayNow' }),
  ch({ method: 'ENETS', name: 'eNETS Debit', kind: 'bank', countries: ['SG'], currencies: ['SGD'], hosted: 'enetsD', returnName: 'eNets-D', notifyName: 'enetsD', aliases: ['ENETS-D', 'eNets-D_DBS', 'eNets-D_UOB', 'eNets-D_OCBC', 'eNets-D_SCB', 'ENETS-D_DBS', 'ENETS-D_UOB', 'ENETS-D_OCBC', 'ENETS-D_SCB'], minAmount: '5.00' }),
  // Philippines
  ch({ method: 'GCASH', name: 'GCash', kind: 'ewallet', countries: ['PH'], currencies: ['PHP'], hosted: 'GCash', aliases: ['AlipayPlus_GCASH', 'PN_GCASH'] }),
  ch({ method: 'MAYA', name: 'Maya', kind: 'ewallet', countries: ['PH'], currencies: ['PHP'], hosted: 'PayMaya-eWallet', notifyName: 'PayMaya e-wallet', aliases: ['PAYMAYA-QRPH'] }),
  ch({ method: 'BPI', name: 'BPI online', kind: 'bank', countries: ['PH'], currencies: ['PHP'], hosted: 'BPI', aliases: ['PN_BT_BPI'] }),
  ch({ method: 'UNIONBANK', name: 'UnionBank (UPay)', kind: 'bank', countries: ['PH'], currencies: ['PHP'], hosted: 'UPAY_UBO', aliases: ['PN_BT_UBP'] }),
  ch({ method: 'QRPH', name: 'QR Ph', kind: 'qr', countries: ['PH'], currencies: ['PHP'], hosted: 'QRPH' }),
  ch({ method: 'COINS_PH', name: 'Coins.ph', kind: 'ewallet', countries: ['PH'], currencies: ['PHP'], hosted: 'COINS_PH', aliases: ['PN_COINS'] }),
  ch({ method: 'DRAGONPAY', name: 'Dragonpay', kind: 'bank', countries: ['PH'], currencies: ['PHP'], hosted: 'dragonpay', returnName: 'Dragonpay', minAmount: '50.00' }),
  // Thailand
  ch({ method: 'TH_BAY', name: 'Krungsri online', kind: 'bank', countries: ['TH'], currencies: ['THB'], hosted: 'BAY_IB_U' }),
  ch({ method: 'TH_BBL', name: 'Bangkok Bank online', kind: 'bank', countries: ['TH'], currencies: ['THB'], hosted: 'BBL_IB_U' }),
  ch({ method: 'TH_KTB', name: 'Krungthai online', kind: 'bank', countries: ['TH'], currencies: ['THB'], hosted: 'KTB_IB_U' }),
  ch({ method: 'TH_SCB', name: 'SCB Easy', kind: 'bank', countries: ['TH'], currencies: ['THB'], hosted: 'SCB_IB_U' }),
  ch({ method: 'KBANK_PAYPLUS', name: 'K PLUS', kind: 'bank', countries: ['TH'], currencies: ['THB'], hosted: 'KBANK_PayPlus' }),
  ch({ method: 'KBANK_RTP', name: 'KBank request to pay', kind: 'bank', countries: ['TH'], currencies: ['THB'], hosted: 'KBANK_RTP' }),
  ch({ method: 'PROMPTPAY_QR', name: 'Thai QR (KBank)', kind: 'qr', countries: ['TH'], currencies: ['THB'], hosted: 'KBANK_THQR_Payment' }),
  ch({ method: 'LINEPAY', name: 'Rabbit LINE Pay', kind: 'ewallet', countries: ['TH'], currencies: ['THB'], hosted: 'LINEPAY' }),
  ch({ method: 'CASH_TH', name: 'Cash (Thailand)', kind: 'cash', countries: ['TH'], currencies: ['THB'], hosted: 'Cash-TH' }),
  // Vietnam
  ch({ method: 'NGANLUONG', name: 'Ngan Luong', kind: 'ewallet', countries: ['VN'], currencies: ['VND'], hosted: 'nganluong' }),
  ch({ method: 'VTCPAY', name: 'VTC Pay', kind: 'ewallet', countries: ['VN'], currencies: ['VND'], hosted: 'vtcpay' }),
];

/**
 * Methods of the form `FIUU:<hosted channel>` pass a raw channel through, for channels the
 * catalogue does not list (Vietnam `9PAY_*`, Indonesia `e2Pay_*`, new channels).
 */
export const RAW_CHANNEL_PREFIX = 'FIUU:';

const byMethod = new Map(FIUU_CHANNELS.map((c) => [c.method, c]));
const byReturned = new Map<string, FiuuChannel>();
// Earlier entries win: the generic FPX, card and GrabPay entries own their shared names.
for (const c of FIUU_CHANNELS) {
  for (const name of [c.hosted, c.seamless, c.returnName, c.notifyName, ...c.aliases, c.method]) {
    const key = name.toLowerCase();
    if (!byReturned.has(key)) byReturned.set(key, c);
  }
}

/** Looks a method name up exactly (case-insensitive). */
export function findChannel(method: string): FiuuChannel | undefined {
  return byMethod.get(method.toUpperCase());
}

/**
 * Picks the channel for a payment method and currency: the method itself when it takes the
 * currency, else the per-currency variant of its group (`GRABPAY` + `SGD` -> `GRABPAY_SG`).
 * @throws TenderError `payment_method_not_supported` / `currency_not_supported` (param named).
 */
export function resolveChannel(method: string, currency: string): FiuuChannel {
  if (method.toUpperCase().startsWith(RAW_CHANNEL_PREFIX)) {
    const hosted = method.slice(RAW_CHANNEL_PREFIX.length);
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(hosted)) throw invalidRequest('payment_method_not_supported', `Invalid raw Fiuu channel '${hosted}'`, 'payment_method');
    return { method: method, name: hosted, kind: 'bank', countries: [], currencies: [currency], hosted, seamless: hosted, aliases: [], returnName: hosted, notifyName: hosted };
  }
  const upper = method.toUpperCase();
  const direct = byMethod.get(upper);
  const candidates = [direct, ...FIUU_CHANNELS.filter((c) => c.group === upper)].filter((c): c is FiuuChannel => c !== undefined);
  if (candidates.length === 0) {
    throw invalidRequest('payment_method_not_supported', `Fiuu does not offer payment method '${method}'`, 'payment_method');
  }
  const match = candidates.find((c) => c.currencies.includes(currency));
  if (!match) {
    const accepted = [...new Set(candidates.flatMap((c) => c.currencies))].join(', ');
    throw invalidRequest('currency_not_supported', `Payment method ${upper} takes ${accepted}, not ${currency}`, 'currency');
  }
  return match;
}

/**
 * Normalises a `channel` value Fiuu sent back (any endpoint, any case) to our method name; null
 * when unknown (the raw value is kept alongside).
 */
export function normaliseChannel(returned: string | null | undefined): string | null {
  if (!returned) return null;
  return byReturned.get(returned.trim().toLowerCase())?.method ?? null;
}

/** Every payment-method name the catalogue accepts (capabilities). */
export function supportedMethods(): string[] {
  const names = new Set<string>();
  for (const c of FIUU_CHANNELS) {
    names.add(c.method);
    if (c.group) names.add(c.group);
  }
  names.add(`${RAW_CHANNEL_PREFIX}*`);
  return [...names];
}

/** Every currency some channel takes. */
export function supportedCurrencies(): string[] {
  return [...new Set(FIUU_CHANNELS.flatMap((c) => c.currencies))];
}
