// Shared fixtures: every test fails on a console error, an uncaught page error, or a request
// to any host other than the app's own. `js` tells a test whether JavaScript is on.
import { test as base, expect, type Page } from '@playwright/test';

type Fixtures = {
  js: boolean;
  guarded: Page;
};

export const test = base.extend<Fixtures>({
  js: async ({ javaScriptEnabled }, use) => {
    await use(javaScriptEnabled !== false);
  },
  guarded: async ({ page, baseURL }, use) => {
    const problems: string[] = [];
    const appOrigin = new URL(baseURL!).origin;
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (['data:', 'blob:'].includes(url.protocol)) return;
      if (url.origin !== appOrigin) problems.push(`request to another host: ${req.url()}`);
    });
    await use(page);
    expect(problems, problems.join('\n')).toEqual([]);
  },
});

export { expect };

/** Opens `path` and, with JavaScript on, waits until the WASM bundle has hydrated the page. */
export async function open(page: Page, js: boolean, path: string) {
  const response = await page.goto(path);
  if (js) {
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  } else {
    await expect(page.locator('html')).not.toHaveAttribute('data-hydrated', 'true');
  }
  return response;
}
