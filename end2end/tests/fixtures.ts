// Shared fixtures: every test fails on a console error, an uncaught page error, or a request
// to any host other than the app's own. `js` tells a test whether JavaScript is on.
import { test as base, expect, type APIRequestContext, type Page } from '@playwright/test';

type Fixtures = {
  js: boolean;
  /** The origin of the server this test's project runs against. State-changing requests must
   * carry it (CSRF protection), as the app's own pages do; tests that call server functions
   * directly send it too. */
  origin: string;
  /** Paths that answer an HTTP error on purpose in this test (e.g. a 404 test). */
  expectedErrorPaths: string[];
  guarded: Page;
};

export const test = base.extend<Fixtures>({
  js: async ({ javaScriptEnabled }, use) => {
    await use(javaScriptEnabled !== false);
  },
  origin: async ({ baseURL }, use) => {
    await use(new URL(baseURL!).origin);
  },
  expectedErrorPaths: async ({}, use) => {
    await use([]);
  },
  guarded: async ({ page, baseURL, expectedErrorPaths, js }, use) => {
    const problems: string[] = [];
    const appOrigin = new URL(baseURL!).origin;
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      // With JavaScript off, Chromium still preloads the bundle the page links (it never runs
      // it); a preload cut short by navigating away is reported against the next page. That
      // is noise about a script that cannot run, not a problem of the page.
      const source = msg.location().url;
      if (!js && /\/pkg\/[^ ]*\.(js|wasm)/.test(`${msg.text()} ${source}`)) return;
      const expected =
        msg.text().startsWith('Failed to load resource') &&
        source !== '' &&
        expectedErrorPaths.includes(new URL(source).pathname);
      if (!expected) problems.push(`console error: ${msg.text()} (${source})`);
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

/** Makes a small image through the server function, as the editor would; returns its id. */
export async function generateSmall(request: APIRequestContext, origin: string, prompt: string): Promise<string> {
  const res = await request.post('/api/generate_image', {
    headers: { Origin: origin },
    data: { request: { prompt, model: 'gemini-3.1-flash-image', aspect_ratio: '1:1', image_size: '512' } },
  });
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()).id;
}

/**
 * Opens `path` and, with JavaScript on, waits until the page's islands are live (the loader
 * marks the document `data-hydrated="true"` once every island has started, at once on a page
 * without islands, and `"error"` if one failed). The editor's island mounts the editor in an
 * effect just after it starts: wait for the editor's elements, not only the mark.
 */
export async function open(page: Page, js: boolean, path: string) {
  const response = await page.goto(path);
  if (js) {
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  } else {
    await expect(page.locator('html')).not.toHaveAttribute('data-hydrated', 'true');
  }
  return response;
}
