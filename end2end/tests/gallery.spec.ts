// The gallery in a real browser, with JavaScript on and off: browse, search, page, open an
// image, follow a three-step lineage, delete with confirmation (and see the gap it leaves),
// and open a stored image in the editor. Images are made through the server functions, each
// test with its own search word, so tests running side by side do not see each other's.
import type { APIRequestContext, Page } from '@playwright/test';
import { test, expect, open } from './fixtures';

const MODEL = 'gemini-3.1-flash-image';

function uniqueWord(): string {
  return `word${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

async function generate(request: APIRequestContext, origin: string, prompt: string): Promise<string> {
  const res = await request.post('/api/generate_image', {
    headers: { Origin: origin },
    data: { request: { prompt, model: MODEL, aspect_ratio: '1:1', image_size: null } },
  });
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()).id;
}

async function editStored(
  request: APIRequestContext,
  origin: string,
  sourceId: string,
  prompt: string,
): Promise<string> {
  const res = await request.post('/api/edit_image', {
    headers: { Origin: origin },
    multipart: { prompt, model: MODEL, source_id: sourceId },
  });
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()).id;
}

/** Marks the document; the mark survives in-page navigation and is lost on a full load. */
async function markDocument(page: Page) {
  await page.evaluate(() => ((window as unknown as { gemflashMark: boolean }).gemflashMark = true));
}

async function documentIsMarked(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { gemflashMark?: boolean }).gemflashMark === true);
}

test('search finds an image and its page shows it', async ({ guarded: page, js, request, origin }) => {
  const word = uniqueWord();
  const id = await generate(request, origin, `a ${word} lighthouse at dusk`);
  await open(page, js, '/gallery');
  await expect(page.getByTestId('gallery-grid')).toBeVisible();
  await markDocument(page);

  await page.getByTestId('search-input').fill(word);
  await page.getByTestId('search-submit').click();
  await expect(page).toHaveURL(new RegExp(`q=${word}`));
  const items = page.getByTestId('gallery-item');
  await expect(items).toHaveCount(1);
  await expect(items.first()).toHaveAttribute('data-id', id);
  // The grid shows thumbnails, never the full images.
  const thumb = items.first().locator('img');
  await expect(thumb).toHaveAttribute('src', `/images/${id}/thumb`);
  // 1x and 2x thumbnails with their real widths, shown whole (never cropped square).
  await expect(thumb).toHaveAttribute('srcset', `/images/${id}/thumb 384w, /images/${id}/thumb2x 768w`);
  expect(await thumb.evaluate((img: HTMLImageElement) => getComputedStyle(img).objectFit)).toBe('contain');
  await expect(thumb).toHaveJSProperty('complete', true);
  expect(await thumb.evaluate((img: HTMLImageElement) => img.currentSrc)).toMatch(/\/thumb(2x)?$/);
  // The gallery has no island, so no code: the search is a page load with JavaScript on too.
  expect(await documentIsMarked(page), 'the search is a page load').toBe(false);

  await items.first().click();
  await expect(page).toHaveURL(`/gallery/${id}`);
  await expect(page.getByTestId('detail-prompt')).toContainText(word);
  await expect(page.getByTestId('detail-download')).toHaveAttribute('href', `/images/${id}?download`);
  const image = page.getByTestId('detail-image');
  await expect(image).toHaveJSProperty('complete', true);
  expect(await image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  // The page shows the lighter view copy; the original is one click away.
  await expect(image).toHaveAttribute('src', `/images/${id}/view`);
  await expect(page.getByTestId('detail-original')).toHaveAttribute('href', `/images/${id}`);
  const view = await request.get(`${origin}/images/${id}/view`);
  expect(view.headers()['content-type']).toBe('image/webp');
  const original = await request.get(`${origin}/images/${id}`);
  expect((await view.body()).length).toBeLessThan((await original.body()).length);
});

test('a search with no match says so and offers everything', async ({ guarded: page, js }) => {
  await open(page, js, `/gallery?q=${uniqueWord()}`);
  await expect(page.getByTestId('gallery-no-match')).toBeVisible();
  await page.getByTestId('search-clear').click();
  await expect(page).toHaveURL('/gallery');
});

test('older and newer pages follow each other', async ({ guarded: page, js, request, origin }) => {
  const word = uniqueWord();
  // 25 images: one more than a page.
  const ids = await Promise.all(
    Array.from({ length: 25 }, (_, i) => generate(request, origin, `${word} number ${i}`)),
  );
  await open(page, js, `/gallery?q=${word}`);
  const items = page.getByTestId('gallery-item');
  await expect(items).toHaveCount(24);
  const firstPage = await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
  await expect(page.getByTestId('page-newer')).toHaveCount(0);

  await page.getByTestId('page-older').click();
  await expect(items).toHaveCount(1);
  const last = await items.first().getAttribute('data-id');
  await expect(page.getByTestId('page-older')).toHaveCount(0);
  // Every image once, on one page or the other.
  expect([...firstPage, last].sort()).toEqual([...ids].sort());

  await page.getByTestId('page-newer').click();
  await expect(items).toHaveCount(24);
  expect(await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))).toEqual(firstPage);
});

test('an edit of an edit shows a three-step lineage, and deleting the middle leaves a gap', { tag: '@destructive' }, async ({
  guarded: page,
  js,
  request,
  origin,
}) => {
  const word = uniqueWord();
  const root = await generate(request, origin, `${word} a quiet harbour`);
  const first = await editStored(request, origin, root, `${word} add a red boat`);
  const second = await editStored(request, origin, first, `${word} make the sky stormy`);

  await open(page, js, `/gallery/${second}`);
  const chain = page.getByTestId('lineage-chain').getByTestId('lineage-link');
  await expect(chain).toHaveCount(2);
  await expect(chain.nth(0)).toHaveAttribute('data-id', root);
  await expect(chain.nth(1)).toHaveAttribute('data-id', first);

  // From the middle image: its parent above, its edit below.
  await chain.nth(1).click();
  await expect(page).toHaveURL(`/gallery/${first}`);
  await expect(page.getByTestId('descendants').getByTestId('lineage-link')).toHaveAttribute('data-id', second);

  // Delete asks first; keeping it changes nothing.
  await page.getByTestId('detail-delete').click();
  await expect(page.getByTestId('confirm-delete')).toBeVisible();
  await page.getByRole('link', { name: 'Keep it' }).click();
  await expect(page.getByTestId('confirm-delete')).toHaveCount(0);
  await page.getByTestId('detail-delete').click();
  await page.getByTestId('confirm-delete-submit').click();
  await expect(page).toHaveURL('/gallery?deleted=1');
  await expect(page.getByTestId('deleted-notice')).toBeVisible();

  await open(page, js, `/gallery/${second}`);
  await expect(page.getByTestId('lineage-gap')).toBeVisible();
  await expect(page.getByTestId('lineage-chain').getByTestId('lineage-link')).toHaveCount(0);
});

test('a request from another site changes nothing', async ({ request, origin }) => {
  const id = await generate(request, origin, `${uniqueWord()} kept`);
  const res = await request.post('/api/delete_image', {
    headers: { Origin: 'https://evil.example' },
    form: { id },
  });
  expect(res.status()).toBe(403);
  expect((await request.get(`/images/${id}`)).status()).toBe(200);
});

test('an unknown image gets a designed page', async ({ guarded: page, js, expectedErrorPaths }) => {
  const path = '/gallery/0123456789abcdef0123456789abcdef';
  expectedErrorPaths.push(path);
  const response = await open(page, js, path);
  expect(response?.status()).toBe(404);
  await expect(page.getByTestId('image-not-found')).toBeVisible();
});

test('Edit opens the editor with the stored image as its source', async ({ guarded: page, js, request, origin }) => {
  test.skip(!js, 'the editor needs JavaScript');
  const id = await generate(request, origin, `${uniqueWord()} a snowy owl`);
  await open(page, js, `/gallery/${id}`);
  await page.getByTestId('detail-edit').click();
  await expect(page).toHaveURL(`/editor?source=${id}`);
  await expect(page.getByTestId('sources').locator('img')).toHaveAttribute('src', `/images/${id}`);
  await expect(page.getByTestId('mask-canvas')).toBeVisible();
});
