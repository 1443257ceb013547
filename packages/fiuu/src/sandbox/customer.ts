/**
 * Plays the customer against the sandbox over HTTP: submits the hosted-payment form, clicks a
 * decision on the payment page and, optionally, follows the auto-post to the return URL as a
 * browser would. Used by tests and by `completeAction` in the gateway conformance suite.
 *
 * @module
 */

/** A hosted-payment form (`gatewayData.hostedPayment` of a Fiuu payment). */
export interface HostedForm {
  url: string;
  fields: Record<string, string>;
}

/** What the customer saw. */
export interface CustomerOutcome {
  tranID: string;
  /** The form the payment page auto-posts to the return URL, if there is one. */
  returnForm: HostedForm | null;
  /** The merchant's answer to that POST, when `followReturn` was set. */
  returnResponse?: { status: number; body: string };
}

const decode = (s: string) => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');

/**
 * Pays (or declines, or leaves pending) a hosted payment on the sandbox.
 * @throws Error with the sandbox's error code (e.g. `P03`) when the payment page rejects the form.
 */
export async function completeHostedPayment(
  hosted: HostedForm,
  decision: 'approve' | 'decline' | 'pending',
  options: { followReturn?: boolean } = {},
): Promise<CustomerOutcome> {
  const page = await fetch(hosted.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(hosted.fields).toString() });
  const html = await page.text();
  const error = /id="error_code">([^<]+)</.exec(html);
  if (error) throw new Error(`Fiuu sandbox payment page refused the form: ${error[1]}`);
  const ids = /data-tran-id="([^"]+)" data-token="([^"]+)"/.exec(html);
  const action = /<form method="post" action="([^"]+)"/.exec(html);
  if (!ids || !action) throw new Error('Fiuu sandbox payment page not recognised');
  const act = await fetch(new URL(decode(action[1]!), hosted.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ tranID: ids[1]!, token: ids[2]!, decision }).toString(),
  });
  const result = await act.text();
  const form = /<form id="return" method="post" action="([^"]*)">(.*?)<noscript>/s.exec(result);
  if (!form) return { tranID: ids[1]!, returnForm: null };
  const fields: Record<string, string> = {};
  for (const m of form[2]!.matchAll(/name="([^"]*)" value="([^"]*)"/g)) fields[decode(m[1]!)] = decode(m[2]!);
  const returnForm = { url: decode(form[1]!), fields };
  if (!options.followReturn) return { tranID: ids[1]!, returnForm };
  const back = await fetch(returnForm.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  return { tranID: ids[1]!, returnForm, returnResponse: { status: back.status, body: await back.text() } };
}
