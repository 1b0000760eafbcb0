// The app shell and the start page: server rendering, hydration, the server-function round
// trip, navigation and the not-found page, with JavaScript on and off.
import { test, expect, open } from './fixtures';

test('start page shows the server configuration', async ({ guarded: page, js }) => {
  const response = await open(page, js, '/');
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle('GemFlash');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Only where you paint');
  await expect(page.getByTestId('upstream')).toHaveText('Offline simulator');
  await expect(page.getByTestId('key-status')).toHaveText('Not configured');
  // The built-in table: Nano Banana 2.1 (the default), Pro, 3.1 Flash (deprecated) and Lite.
  const models = page.getByTestId('models').locator(':scope > li');
  await expect(models).toHaveCount(4);
  await expect(models.first()).toContainText('Nano Banana 2.1');
  await expect(models.first()).toContainText('default');
});

test('every page says it runs against the simulator', async ({ guarded: page, js }) => {
  for (const path of ['/', '/editor', '/gallery']) {
    await open(page, js, path);
    await expect(page.getByTestId('simulator-banner')).toContainText('Simulator mode');
  }
});

test('check again asks the server through its server function', async ({ guarded: page, js }) => {
  await open(page, js, '/');
  const answer = page.waitForResponse(
    (res) => res.url().endsWith('/api/server_info') && res.request().method() === 'POST',
  );
  await page.getByTestId('recheck').click();
  const res = await answer;
  if (js) {
    // The hydrated page calls the function and shows the answer in place.
    expect(res.status()).toBe(200);
    const body = await res.json();
    expect(body.upstream).toBe('simulator');
    expect(body).not.toHaveProperty('api_key');
    await expect(page.getByTestId('recheck-status')).toContainText('Confirmed by the server');
  } else {
    // Without JavaScript the form posts, and the server sends the browser back to the page.
    expect([200, 302, 303]).toContain(res.status());
    await expect(page).toHaveURL(/\/\??$/);
    await expect(page.getByTestId('models').locator(':scope > li')).toHaveCount(4);
  }
});

test('navigation reaches the editor and the gallery', async ({ guarded: page, js }) => {
  await open(page, js, '/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Gallery' }).click();
  await expect(page).toHaveURL(/\/gallery$/);
  await expect(page).toHaveTitle('Gallery · GemFlash');
  await expect(page.getByTestId('gallery-search')).toBeVisible();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Editor' }).click();
  await expect(page).toHaveURL(/\/editor$/);
  if (js) await expect(page.getByTestId('editor')).toBeVisible();
  else await expect(page.getByTestId('editor-needs-js')).toBeVisible();
  await expect(
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Editor' }),
  ).toHaveAttribute('aria-current', 'page');
});

test('an unknown address shows the designed not-found page', async ({ guarded: page, js, expectedErrorPaths }) => {
  // The 404 document itself is the expected outcome, not an error to report.
  expectedErrorPaths.push('/no/such/page');
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByTestId('not-found')).toContainText('This page does not exist');
  await page.getByRole('link', { name: 'Go to the start page' }).click();
  await expect(page).toHaveURL(/\/$/);
  if (js) await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
});

test('the layout fits the screen without sideways scrolling', async ({ guarded: page, js }) => {
  await open(page, js, '/');
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
  await expect(page.getByRole('link', { name: 'Open the editor' })).toBeInViewport();
});

test('pages run under a nonce-based Content-Security-Policy', async ({ guarded: page, js }) => {
  // The guarded page fails the test on any console error, which is where a CSP violation
  // would show; here the policy itself is checked to be the strict one.
  const response = await open(page, js, '/editor');
  const csp = response?.headers()['content-security-policy'] ?? '';
  expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=_-]{16,}' 'strict-dynamic' 'wasm-unsafe-eval'/);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  if (js) await expect(page.getByTestId('editor')).toBeVisible();
});
