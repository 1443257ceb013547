import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

// Tests import packages by their public names; these aliases point them at the sources so no build
// is needed to test. Longer subpaths come first so they win over their parent package.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@tender\/core\/testing$/, replacement: src('core/src/testing/index.ts') },
      { find: /^@tender\/core\/spec\/gateway\/v1$/, replacement: src('core/src/spec/gateway/v1/index.ts') },
      { find: /^@tender\/core$/, replacement: src('core/src/index.ts') },
      { find: /^@tender\/fiuu\/sandbox$/, replacement: src('fiuu/src/sandbox/index.ts') },
      { find: /^@tender\/fiuu\/browser$/, replacement: src('fiuu/src/browser/index.ts') },
      { find: /^@tender\/fiuu$/, replacement: src('fiuu/src/index.ts') },
      { find: /^@tender\/stripe\/sandbox$/, replacement: src('stripe/src/sandbox/index.ts') },
      { find: /^@tender\/stripe$/, replacement: src('stripe/src/index.ts') },
      { find: /^@tender\/paypal\/sandbox$/, replacement: src('paypal/src/sandbox/index.ts') },
      { find: /^@tender\/paypal$/, replacement: src('paypal/src/index.ts') },
      { find: /^@tender\/upi\/sandbox$/, replacement: src('upi/src/sandbox/index.ts') },
      { find: /^@tender\/upi$/, replacement: src('upi/src/index.ts') },
      { find: /^@tender\/store-postgres$/, replacement: src('store-postgres/src/index.ts') },
      { find: /^@tender\/nats$/, replacement: src('nats/src/index.ts') },
      { find: /^@tender\/rabbitmq$/, replacement: src('rabbitmq/src/index.ts') },
      { find: /^@tender\/server-express$/, replacement: src('server-express/src/index.ts') },
    ],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // `*.restart.test.ts` restart a shared broker (NATS, RabbitMQ): they run after every other file,
    // one file at a time, so no other test sees the broker go away.
    projects: [
      { extends: true, test: { name: 'main', include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'], exclude: [...configDefaults.exclude, '**/*.restart.test.ts'], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'restart', include: ['packages/*/test/**/*.restart.test.ts'], sequence: { groupOrder: 1 }, poolOptions: { forks: { singleFork: true } } } },
    ],
  },
});
