// Drafts, in a real browser: the editor's work (the upload, its mask and undo history, the
// prompt and the model) survives a reload and a trip to the gallery and Back (a change made
// the moment before leaving included); leaving with
// unsent work asks first, leaving without it does not; Discard empties the draft. Nothing of
// the draft reaches the server: it lives in the browser's IndexedDB.
import type { Page } from '@playwright/test';
import { test, expect, open } from './fixtures';
import { encodePng } from './png';
import { downloaded, drag, maskPixels, stageReady } from './stage';

const W = 360;
const H = 240;
const sourcePng = () => encodePng(W, H, (x, y) => [(x * 3) % 256, (y * 11) % 256, 90, 255]);
const PRO = 'gemini-3-pro-image';

/** The draft as kept in IndexedDB: its prompt and how many sources, or null when there is none. */
async function keptDraft(page: Page): Promise<{ prompt: string; sources: number } | null> {
  return page.evaluate(
    () =>
      new Promise((resolve) => {
        const open = indexedDB.open('gemflash');
        open.onupgradeneeded = () => open.result.createObjectStore('drafts');
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('drafts')) return resolve(null);
          const get = db.transaction('drafts').objectStore('drafts').get('current');
          get.onsuccess = () => {
            const d = get.result;
            db.close();
            resolve(d ? { prompt: d.prompt, sources: d.sources.length } : null);
          };
        };
      }),
  );
}

/** The painted pixels of the mask being edited, as "x,y" strings. */
async function painted(page: Page): Promise<string[]> {
  const mask = await maskPixels(page, await downloaded(page, () => page.getByTestId('mask-export').click()));
  return mask.painted.map(([x, y]) => `${x},${y}`).sort();
}

/** Records the `beforeunload` dialogs the page raises, accepting each (the person leaves). */
function guards(page: Page): string[] {
  const seen: string[] = [];
  page.on('dialog', (dialog) => {
    seen.push(dialog.type());
    void dialog.accept();
  });
  return seen;
}

test.beforeEach(async ({ js }) => {
  test.skip(!js, 'drafts are kept by the browser, with JavaScript');
});

test('paint, type, reload: the upload, mask, history, prompt and model are back', async ({ guarded: page, js }) => {
  const dialogs = guards(page);
  await open(page, js, '/editor');
  // Nothing done yet: leaving does not ask.
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  expect(dialogs).toEqual([]);
  await expect(page.getByTestId('draft-restored')).toHaveCount(0);

  await page.getByTestId('file-input').setInputFiles({ name: 'harbour.png', mimeType: 'image/png', buffer: sourcePng() });
  await stageReady(page);
  await page.getByTestId('brush-size-number').fill('20');
  await drag(page, [
    [60, 120],
    [300, 120],
  ]);
  await page.getByTestId('model').selectOption(PRO);
  await page.getByTestId('prompt').fill('a lighthouse on the pier');
  const before = await painted(page);
  expect(before.length).toBeGreaterThan(1000);
  await expect.poll(() => keptDraft(page)).toEqual({ prompt: 'a lighthouse on the pier', sources: 1 });

  await page.reload();
  expect(dialogs, 'unsent work asks before the page goes').toEqual(['beforeunload']);
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('draft-restored')).toContainText('Draft restored');
  await stageReady(page);
  await expect(page.getByTestId('prompt')).toHaveValue('a lighthouse on the pier');
  await expect(page.getByTestId('model')).toHaveValue(PRO);
  await expect(page.getByTestId('source-item')).toHaveCount(1);
  await expect(page.getByTestId('source-item').locator('img')).toHaveAttribute('alt', 'harbour.png');
  await expect(page.getByTestId('mask-hint')).toContainText('Only the painted area');
  expect(await painted(page), 'the mask, pixel for pixel').toEqual(before);
  // The undo history came back too: the stroke can be undone and redone.
  await page.getByTestId('undo').click();
  await expect(page.getByTestId('mask-hint')).toContainText('Nothing painted');
  await page.getByTestId('redo').click();
  await expect(page.getByTestId('mask-hint')).toContainText('Only the painted area');

  // To the gallery by its link the moment after a change (before the draft's timed save),
  // and Back: the same work, that change included.
  await page.getByTestId('prompt').fill('a lighthouse on the pier at night');
  await page.getByRole('link', { name: 'Gallery', exact: true }).first().click();
  await expect(page).toHaveURL(/\/gallery/);
  await page.goBack();
  await expect(page).toHaveURL(/\/editor/);
  await stageReady(page);
  await expect(page.getByTestId('prompt')).toHaveValue('a lighthouse on the pier at night');
  expect(await painted(page)).toEqual(before);

  // Discard empties it: nothing on the page, nothing kept, nothing to ask about.
  await page.getByTestId('draft-discard').click();
  await expect(page.getByTestId('source-item')).toHaveCount(0);
  await expect(page.getByTestId('prompt')).toHaveValue('');
  await expect.poll(() => keptDraft(page)).toBeNull();
  const asked = dialogs.length;
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  expect(dialogs.length, 'a discarded draft leaves nothing to warn about').toBe(asked);
  await expect(page.getByTestId('draft-restored')).toHaveCount(0);
  await expect(page.getByTestId('source-item')).toHaveCount(0);
});

test('a draft is cleared when its image is made, and only its settings stay when kept', async ({ guarded: page, js }) => {
  const dialogs = guards(page);
  await open(page, js, '/editor');
  await page.getByTestId('model').selectOption(PRO);
  await page.getByTestId('prompt').fill(`a red kite ${Date.now()}`);
  await expect.poll(() => keptDraft(page)).not.toBeNull();
  await page.getByTestId('submit').click();
  await expect(page.getByTestId('result-image')).toBeVisible({ timeout: 20_000 });
  await expect.poll(() => keptDraft(page)).toBeNull();
  // Sent: leaving does not ask.
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  expect(dialogs).toEqual([]);
  await expect(page.getByTestId('draft-restored')).toHaveCount(0);
  await expect(page.getByTestId('prompt')).toHaveValue('');

  // Keeping the settings: after the next image, the model stays, the prompt does not.
  await page.getByTestId('model').selectOption(PRO);
  await page.getByTestId('prompt').fill(`a blue kite ${Date.now()}`);
  await page.getByTestId('submit').click();
  await expect(page.getByTestId('result-image')).toBeVisible({ timeout: 20_000 });
  await page.getByTestId('keep-settings').check();
  await page.getByTestId('keep-editing').click();
  await page.getByTestId('prompt').fill(`a green kite ${Date.now()}`);
  await page.getByTestId('submit').click();
  await expect(page.getByTestId('result-image')).toBeVisible({ timeout: 20_000 });
  await expect.poll(() => keptDraft(page)).toEqual({ prompt: '', sources: 0 });
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('model')).toHaveValue(PRO);
  await expect(page.getByTestId('prompt')).toHaveValue('');
  await expect(page.getByTestId('draft-restored')).toHaveCount(0);
  // And again: restoring the settings does not wipe them.
  await page.waitForTimeout(800);
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('model')).toHaveValue(PRO);
  expect(dialogs).toEqual([]);
});

test('opening a gallery image in the editor keeps the draft until there is new work', async ({
  guarded: page,
  js,
  request,
  origin,
}) => {
  guards(page);
  const made = await request.post('/api/generate_image', {
    headers: { Origin: origin },
    data: { request: { prompt: 'a quiet pier', model: PRO, aspect_ratio: '1:1', image_size: '1K' } },
  });
  expect(made.status(), await made.text()).toBe(200);
  const { id } = await made.json();
  await open(page, js, '/editor');
  await page.getByTestId('file-input').setInputFiles({ name: 'harbour.png', mimeType: 'image/png', buffer: sourcePng() });
  await stageReady(page);
  await page.getByTestId('prompt').fill('my unsent idea');
  await expect.poll(() => keptDraft(page)).toEqual({ prompt: 'my unsent idea', sources: 1 });

  // Edit from the gallery: the image opens, the kept draft is not replaced by it.
  await open(page, js, `/editor?source=${id}`);
  await stageReady(page);
  await page.waitForTimeout(1000);
  expect(await keptDraft(page)).toEqual({ prompt: 'my unsent idea', sources: 1 });
  // Back in the plain editor, the draft is there.
  await open(page, js, '/editor');
  await expect(page.getByTestId('draft-restored')).toBeVisible();
  await expect(page.getByTestId('prompt')).toHaveValue('my unsent idea');
});
