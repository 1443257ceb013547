/**
 * The docs site: VitePress over docs/*.md. `npm run docs:build` (scripts/docs-build.ts) builds it into
 * docs/.vitepress/dist together with the typedoc API reference (/api/) and the Redoc REST reference
 * (/rest/), so one command gives the whole site.
 */
import { defineConfig } from 'vitepress';
import { withMermaid } from 'vitepress-plugin-mermaid';
import { repositoryLinks } from './repository-links';

const links = repositoryLinks();

export default withMermaid(
  defineConfig({
    title: 'Tender',
    description: 'An embeddable TypeScript payments SDK and reference server',
    cleanUrls: false,
    // docs/README.md, the index GitHub shows for the folder, is a page too (/README.html): other pages link to it.
    srcExclude: ['events/schemas/**'],
    // /api/ and /rest/ are written into the output after VitePress (typedoc, Redoc); /source/ holds
    // the repository files pages link to, copied by `buildEnd` below. The docs test checks every one.
    ignoreDeadLinks: [/^\/(api|rest|source)\//],
    markdown: {
      config: (md) => {
        md.use(links.plugin);
      },
    },
    buildEnd: (site) => links.copy(site.outDir),
    themeConfig: {
      nav: [
        { text: 'Guide', link: '/getting-started' },
        { text: 'Concepts', link: '/concepts/money' },
        { text: 'Gateways', link: '/gateways/' },
        { text: 'Operations', link: '/operations' },
        { text: 'API reference', link: '/api/index.html', target: '_self' },
        { text: 'REST reference', link: '/rest/index.html', target: '_self' },
      ],
      sidebar: [
        {
          text: 'Guide',
          items: [
            { text: 'Getting started', link: '/getting-started' },
            { text: 'Configuration', link: '/configuration' },
            { text: 'Security and PCI scope', link: '/security' },
            { text: 'Upgrading', link: '/upgrading' },
          ],
        },
        {
          text: 'Concepts',
          items: [
            { text: 'Money and exponents', link: '/concepts/money' },
            { text: 'State machines', link: '/state-machines' },
            { text: 'Idempotency', link: '/concepts/idempotency' },
            { text: 'Crash safety and the reconciler', link: '/concepts/crash-safety' },
            { text: 'Webhooks in and out', link: '/concepts/webhooks' },
            { text: 'Routing and failover', link: '/concepts/routing' },
            { text: 'Customers and subscriptions', link: '/concepts/billing' },
            { text: 'Risk checks', link: '/risk' },
            { text: 'Disputes and chargebacks', link: '/disputes' },
          ],
        },
        {
          text: 'Gateways',
          items: [
            { text: 'Capabilities', link: '/gateways/' },
            { text: 'Fiuu', link: '/gateways/fiuu' },
            { text: 'Stripe', link: '/gateways/stripe' },
            { text: 'PayPal', link: '/gateways/paypal' },
            { text: 'UPI (Razorpay)', link: '/gateways/upi' },
          ],
        },
        {
          text: 'Extending',
          items: [
            { text: 'Writing a gateway', link: '/writing-a-gateway' },
            { text: 'Writing a store', link: '/writing-a-store' },
          ],
        },
        {
          text: 'Events and integrations',
          items: [
            { text: 'Merchant webhooks', link: '/webhooks' },
            { text: 'Published events', link: '/events' },
            { text: 'Order events in', link: '/order-events' },
            { text: 'Live payment status', link: '/live-status' },
            { text: 'gRPC', link: '/grpc' },
          ],
        },
        {
          text: 'Operations',
          items: [
            { text: 'Operations and runbooks', link: '/operations' },
            { text: 'Deployment', link: '/deploy' },
            { text: 'Monitoring', link: '/monitoring' },
            { text: 'Payment analytics', link: '/analytics' },
            { text: 'Settlement reconciliation', link: '/settlements' },
            { text: 'Operator dashboard', link: '/dashboard' },
            { text: 'Encryption and retention', link: '/encryption' },
            { text: 'Upgrading embedded PGlite', link: '/upgrading-pglite' },
          ],
        },
        {
          text: 'Reference',
          items: [
            { text: 'API reference (typedoc)', link: '/api/index.html', target: '_self' },
            { text: 'REST reference (Redoc)', link: '/rest/index.html', target: '_self' },
          ],
        },
      ],
      search: { provider: 'local' },
    },
  }),
);
