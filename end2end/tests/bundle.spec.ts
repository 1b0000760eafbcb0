// Islands and the split build: only the islands are code. The gallery and an image's page load
// no WASM at all, the start page (its server check) the main module alone, the delete question
// the main module and its own chunk, and the editor's island arrives as a chunk of its own (on a direct load and on navigation); every built file
// is named by its content's hash and cached for a year.
import type { Page, Request } from '@playwright/test';
import { test, expect, generateSmall, open } from './fixtures';

/** Collects the WASM files the page fetches from /pkg. */
function wasmFetches(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (req: Request) => {
    const url = new URL(req.url());
    if (url.pathname.startsWith('/pkg/') && url.pathname.endsWith('.wasm')) seen.push(url.pathname);
  });
  return seen;
}

const MAIN_MODULE = /^\/pkg\/gemflash\.[A-Za-z0-9_-]{22}\.wasm$/;

test('pages load code only for their islands: none on the gallery and an image page, never the editor\'s', async ({ guarded: page, js, request, origin }) => {
  test.skip(!js, 'hydration needs JavaScript');
  const id = await generateSmall(request, origin, 'a quiet harbour at noon');
  const wasm = wasmFetches(page);
  // [path, islands on the page, whether the main module loads, which chunks may load]
  const pages: [string, number, boolean, RegExp | null][] = [
    ['/', 1, true, null],
    ['/gallery', 0, false, null],
    [`/gallery/${id}`, 0, false, null],
    // The delete question's own chunk (and one it shares with the editor), never the editor's.
    [`/gallery/${id}?confirm=delete`, 1, true, /^\/pkg\/(split_confirm_delete_loader_\d+|chunk_\d+)\.[A-Za-z0-9_-]{22}\.wasm$/],
  ];
  for (const [path, islands, main, chunks] of pages) {
    wasm.length = 0;
    await open(page, js, path);
    // Give a late fetch the time to show up before the list is read.
    await page.waitForLoadState('networkidle');
    await expect(page.locator('leptos-island'), path).toHaveCount(islands);
    const fetched = `${path} fetched ${wasm.join(', ') || 'nothing'}`;
    expect(wasm.filter((file) => MAIN_MODULE.test(file)), fetched).toHaveLength(main ? 1 : 0);
    for (const file of wasm.filter((file) => !MAIN_MODULE.test(file))) {
      expect(chunks !== null && chunks.test(file), fetched).toBe(true);
    }
  }
  // The delete question's own chunk came (the last page of the list), and the question has
  // the focus.
  expect(wasm.some((file) => /^\/pkg\/split_confirm_delete_loader_/.test(file)), wasm.join(', ')).toBe(true);
  await expect(page.getByTestId('confirm-delete-keep')).toBeFocused();
});

test('the editor hydrates with its chunk, opened directly or reached by a link', async ({ guarded: page, js }) => {
  test.skip(!js, 'hydration needs JavaScript');
  const wasm = wasmFetches(page);
  await open(page, js, '/editor');
  await expect(page.getByTestId('editor')).toBeVisible();
  const direct = [...wasm];
  expect(direct.some((p) => MAIN_MODULE.test(p)), direct.join(', ')).toBe(true);
  expect(direct.filter((p) => !MAIN_MODULE.test(p)).length, direct.join(', ')).toBeGreaterThan(0);
  // Hydrated means interactive: the prompt takes text and the generate button wakes up.
  await page.getByTestId('prompt').fill('a lighthouse at dusk');
  await expect(page.getByTestId('prompt')).toHaveValue('a lighthouse at dusk');

  // From the start page (the main module alone), the link opens the editor, which loads its chunk.
  const fresh = await page.context().newPage();
  const later = wasmFetches(fresh);
  await open(fresh, js, '/');
  expect(later).toHaveLength(1);
  await fresh.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Editor' }).click();
  await expect(fresh).toHaveURL(/\/editor$/);
  await expect(fresh.getByTestId('editor')).toBeVisible();
  await expect.poll(() => later.some((p) => /^\/pkg\/split_editor_island_loader_/.test(p))).toBe(true);
  await fresh.close();
});

test('no page preloads code before it has painted; the editor asks for its chunk with the module', async ({ request }) => {
  for (const path of ['/', '/gallery', '/editor']) {
    const html = await (await request.get(path)).text();
    expect(html, path).not.toMatch(/<link[^>]+rel="(module)?preload"/);
    expect(html, path).toContain('requestIdleCallback');
    expect(html, path).toMatch(/import\("\/pkg\/gemflash\.[A-Za-z0-9_-]{22}\.js"\)/);
    // Only the editor's page names the editor's chunk.
    expect(/"\/pkg\/split_[^"]+\.wasm"/.test(html), path).toBe(path === '/editor');
  }
});

/** The main module, the editor island's own chunk, or neither (a chunk shared with others). */
function which(path: string): 'main' | 'chunk' | null {
  if (MAIN_MODULE.test(path)) return 'main';
  if (/^\/pkg\/split_editor_island_loader_/.test(path)) return 'chunk';
  return null;
}

test('on the editor the chunk downloads beside the main module, not after it', async ({ guarded: page, js }) => {
  test.skip(!js, 'the loader is a script');
  const started: Record<string, number> = {};
  const finished: Record<string, number> = {};
  page.on('request', (req) => {
    const p = new URL(req.url()).pathname;
    const kind = which(p);
    if (kind) started[kind] = Date.now();
  });
  page.on('requestfinished', (req) => {
    const p = new URL(req.url()).pathname;
    const kind = which(p);
    if (kind) finished[kind] = Date.now();
  });
  await open(page, js, '/editor');
  await expect(page.getByTestId('editor')).toBeVisible();
  expect(started.chunk, 'the chunk was not fetched').toBeDefined();
  expect(started.main, 'the main module was not fetched').toBeDefined();
  // Asked for before the main module had arrived (after it, it would wait for the module to
  // compile and the route to ask).
  expect(started.chunk).toBeLessThanOrEqual(finished.main);
});

test('built files carry their hash in the name and are cached for a year', async ({ guarded: page, js, request }) => {
  test.skip(!js, 'the files are the ones the hydrated page loads');
  const assets: string[] = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.pathname.startsWith('/pkg/')) assets.push(url.pathname);
  });
  await open(page, js, '/editor');
  await expect(page.getByTestId('editor')).toBeVisible();
  expect(assets.length).toBeGreaterThanOrEqual(3); // stylesheet, script, module
  expect(assets.filter((p) => p.endsWith('.wasm')).length).toBeGreaterThanOrEqual(2); // module, chunk
  for (const path of new Set(assets)) {
    expect(path, 'a built file without a hash in its name').toMatch(/\.[A-Za-z0-9_-]{22}\.[a-z]+$/);
    const res = await request.get(path, { headers: { 'accept-encoding': 'br' } });
    expect(res.status(), path).toBe(200);
    // Scripts import each other by names hashed before they were written in: revalidated,
    // with a date to revalidate against.
    if (path.endsWith('.js')) {
      expect(res.headers()['cache-control'], path).toBe('no-cache');
      const again = await request.get(path, { headers: { 'if-modified-since': res.headers()['last-modified'] } });
      expect(again.status(), path).toBe(304);
    } else {
      expect(res.headers()['cache-control'], path).toBe('public, max-age=31536000, immutable');
    }
  }
  // The page itself is never cached: a new build's page names the new files.
  const html = await request.get('/');
  expect(html.headers()['cache-control']).toContain('no-store');
});
