/**
 * The buyer's part, played over HTTP as a browser would: open the approval link and press a button.
 *
 * @module
 */

/**
 * Opens an approval link (`nextAction.url`) and presses Approve, "Approve with a card that declines"
 * or Cancel, like a buyer. Returns the redirect target (`return_url?token=...&PayerID=...`), if any.
 */
export async function approveOrder(approvalUrl: string, outcome: 'approve' | 'decline' | 'cancel' = 'approve'): Promise<string | null> {
  const page = await fetch(approvalUrl);
  const html = await page.text();
  if (!page.ok) throw new Error(`approval page answered ${page.status}: ${html.slice(0, 200)}`);
  const token = /name="token" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('approval page has no order token');
  const response = await fetch(new URL('/checkoutnow/approve', approvalUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, action: outcome }).toString(),
    redirect: 'manual',
  });
  await response.arrayBuffer();
  return response.headers.get('location');
}
