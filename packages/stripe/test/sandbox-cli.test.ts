import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('the sandbox CLI prints its URL and keys, serves the API, and stops on SIGTERM', async () => {
  const cli = fileURLToPath(new URL('../src/sandbox/cli.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const info = JSON.parse(line) as { url: string; secretKey: string; publishableKey: string };
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${info.url}/v1/payment_intents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${info.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'amount=100&currency=usd',
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { object: string }).object).toBe('payment_intent');
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code).toBe(0);
});
