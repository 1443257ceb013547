// HEALTHCHECK of the container image: exits 0 when GET /health answers 200 within 3 s, else 1.
// It asks the listener the server serves /health on: HEALTH_CHECK_PORT when set, else PORT
// (default 8080), on HOST (an unspecified address such as 0.0.0.0 is reached through loopback).
import { get } from 'node:http';

const env = process.env;
const port = Number(env.HEALTH_CHECK_PORT || env.PORT || 8080);
const bound = (env.HEALTH_CHECK_PORT ? env.HEALTH_CHECK_HOST : env.HOST) || '127.0.0.1';
const host = bound === '0.0.0.0' ? '127.0.0.1' : bound === '::' || bound === '[::]' ? '::1' : bound.replace(/^\[(.*)\]$/, '$1');

const fail = (why) => {
  process.stderr.write(`healthcheck: http://${host.includes(':') ? `[${host}]` : host}:${port}/health ${why}\n`);
  process.exit(1);
};
const request = get({ host, port, path: '/health', timeout: 3000, headers: { 'user-agent': 'tender-healthcheck' } }, (res) => {
  res.resume();
  if (res.statusCode === 200) process.exit(0);
  fail(`answered ${res.statusCode}`);
});
request.on('timeout', () => request.destroy(new Error('timed out after 3 s')));
request.on('error', (error) => fail(`failed: ${error.message}`));
