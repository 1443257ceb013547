/**
 * The operator dashboard at `/dashboard`: the built `@tender/dashboard` app (`packages/dashboard`,
 * a Vite build) served as static files. The app calls the REST API with a bearer token like any
 * client, so this serves nothing secret, except in simulation mode: there `GET /dashboard/session`
 * hands it the development token of the merchant `demo` (the one `/demo` acts for), so a newcomer
 * after `npm start` sees their demo payments without minting a token. Elsewhere that route is a 404
 * and the operator pastes a token into the app's sign-in form.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TenderError } from '@tender/core';
import express, { Router } from 'express';
import { sendError } from './errors';

/**
 * The dashboard page's Content-Security-Policy (https://www.w3.org/TR/CSP3/): its own scripts,
 * styles and images, calls to this origin's API only, no inline code, no plugins, no framing, no
 * form posts (the app's forms are handled in script).
 */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Where the built app is: `packages/dashboard/dist` beside this package (the same from `src/` and `dist/`). */
export function dashboardDistPath(): string {
  return fileURLToPath(new URL('../../dashboard/dist', import.meta.url));
}

/** Options of {@link createDashboardRouter}. */
export interface DashboardOptions {
  /** The built app's directory (default {@link dashboardDistPath}). */
  dir?: string;
  /** Simulation mode's development token, answered by `GET /dashboard/session`; null elsewhere. */
  devToken?: string | null;
}

/** The dashboard routes (`/dashboard`, `/dashboard/assets/*`, `/dashboard/session`). */
export function createDashboardRouter(options: DashboardOptions = {}): Router {
  const dir = options.dir ?? dashboardDistPath();
  const index = join(dir, 'index.html');
  const router = Router();
  const notBuilt = (res: express.Response) => {
    res.status(404).type('text/plain').send('The dashboard is not built: run `npm run build` (it builds packages/dashboard).');
  };
  const page = (_req: express.Request, res: express.Response) => {
    if (!existsSync(index)) return notBuilt(res);
    res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
    // The page names its hashed assets: always fetch it anew so a new build is picked up.
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  };
  router.get('/dashboard', page);
  router.get('/dashboard/', page);
  // Vite's file names carry a hash of their content: cached for good.
  router.use('/dashboard/assets', express.static(join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false }));
  router.get('/dashboard/session', (_req, res) => {
    if (!options.devToken) {
      sendError(res, new TenderError({ type: 'not_found_error', code: 'route_not_found', message: 'No development token outside simulation mode: sign in with an API token' }));
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    res.json({ token: options.devToken });
  });
  return router;
}
