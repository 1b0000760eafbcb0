// A job's progress as it happens, in a real browser: a throttled call shows its retries with a
// countdown, then the image; Cancel during a retry's wait stops the upstream calls (counted by
// the server's /metrics); the settings of a stored image can be used again; Keep editing
// clears the prompt unless told to keep it.
import type { APIRequestContext } from '@playwright/test';
import { test, expect, open } from './fixtures';
import { metricsToken } from '../access-token';
import { stageReady } from './stage';

const PRO = 'gemini-3-pro-image';

/** Attempts made upstream on `model` so far, as the server counts them. */
async function attempts(request: APIRequestContext, model: string): Promise<number> {
  const res = await request.get('/metrics', { headers: { Authorization: `Bearer ${metricsToken}` } });
  expect(res.status()).toBe(200);
  const line = (await res.text())
    .split('\n')
    .find((l) => l.startsWith('gemflash_upstream_attempts_total') && l.includes(`model="${model}"`));
  return line ? Number(line.trim().split(/\s+/).pop()) : 0;
}

test.describe('with JavaScript on', () => {
  test.beforeEach(async ({ js }) => {
    test.skip(!js, 'the editor needs JavaScript');
  });

  test('a throttled call shows its retry with a countdown, then the image', async ({ guarded: page, js }) => {
    test.setTimeout(60_000);
    await open(page, js, '/editor');
    // Throttled once (Gemini's 429 asks for 10 s), then answered.
    await page.getByTestId('prompt').fill(`a harbour at noon ${Date.now()} [sim:quota-1]`);
    await page.getByTestId('submit').click();
    const phase = page.getByTestId('phase');
    await expect(phase).toContainText('Retrying (2 of 5)', { timeout: 15_000 });
    await expect(phase).toContainText("Gemini's quota is used up for the moment");
    const seconds = async () => Number((await phase.textContent())!.match(/Next try in (\d+) s/)![1]);
    const first = await seconds();
    expect(first).toBeGreaterThanOrEqual(8);
    await expect.poll(seconds, { timeout: 5_000 }).toBeLessThan(first);
    await expect(page.getByTestId('result-image')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('error')).toHaveCount(0);
  });

  test('Cancel during a retry stops the upstream calls', async ({ guarded: page, js, request, isMobile }) => {
    test.skip(isMobile, 'it counts a server-wide figure: one project at a time (the desktop one)');
    test.setTimeout(60_000);
    await open(page, js, '/editor');
    await page.getByTestId('model').selectOption(PRO);
    const before = await attempts(request, PRO);
    await page.getByTestId('prompt').fill(`a slow harbour ${Date.now()} [sim:quota-3]`);
    await page.getByTestId('submit').click();
    await expect(page.getByTestId('phase')).toContainText('Retrying (2 of 5)', { timeout: 15_000 });
    await page.getByTestId('cancel').click();
    await expect(page.getByTestId('waiting')).toHaveCount(0);
    // Past the 10 s the retry would have waited: no second attempt went out.
    await page.waitForTimeout(12_000);
    expect(await attempts(request, PRO)).toBe(before + 1);
  });

  test('a stored image\'s settings can be used again, and Keep editing clears the prompt unless kept', async ({
    guarded: page,
    js,
    request,
    origin,
  }) => {
    const res = await request.post('/api/generate_image', {
      headers: { Origin: origin },
      data: {
        request: {
          prompt: 'a paper crane, studio light',
          model: 'gemini-3.1-flash-image',
          aspect_ratio: '16:9',
          image_size: '2K',
          thinking_level: 'high',
          grounding: true,
        },
      },
    });
    expect(res.status(), await res.text()).toBe(200);
    const { id } = await res.json();
    await open(page, js, `/gallery/${id}`);
    await page.getByTestId('detail-reuse').click();
    await expect(page).toHaveURL(new RegExp(`/editor\\?settings=${id}$`));
    await expect(page.getByTestId('prompt')).toHaveValue('a paper crane, studio light');
    await expect(page.getByTestId('model')).toHaveValue('gemini-3.1-flash-image');
    await expect(page.getByTestId('aspect-ratio')).toHaveValue('16:9');
    await expect(page.getByTestId('image-size')).toHaveValue('2K');
    await expect(page.getByTestId('thinking-level')).toHaveValue('high');
    await expect(page.getByTestId('grounding')).toBeChecked();

    // Edit opens with the image's own model; Keep editing clears the prompt by default.
    await open(page, js, `/editor?source=${id}`);
    await stageReady(page);
    await expect(page.getByTestId('model')).toHaveValue('gemini-3.1-flash-image');
    await page.getByTestId('prompt').fill('add a second crane');
    await page.getByTestId('submit').click();
    await expect(page.getByTestId('result-image')).toBeVisible({ timeout: 20_000 });
    await page.getByTestId('keep-editing').click();
    await expect(page.getByTestId('prompt')).toHaveValue('');
    await page.getByTestId('prompt').fill('make it gold');
    await page.getByTestId('submit').click();
    await expect(page.getByTestId('result-image')).toBeVisible({ timeout: 20_000 });
    await page.getByTestId('keep-prompt').check();
    await page.getByTestId('keep-editing').click();
    await expect(page.getByTestId('prompt')).toHaveValue('make it gold');
  });

  test('three variations arrive side by side, each is stored, and any one can be edited on', async ({
    guarded: page,
    js,
  }) => {
    test.setTimeout(60_000);
    await open(page, js, '/editor');
    const word = `kites${Date.now()}`;
    await page.getByTestId('variations').selectOption('3');
    await page.getByTestId('prompt').fill(`three ${word} over a beach`);
    await page.getByTestId('submit').click();
    const variations = page.getByTestId('variation');
    await expect(variations).toHaveCount(3, { timeout: 30_000 });
    await expect(page.getByTestId('variation-waiting')).toHaveCount(0);
    await expect(page.getByTestId('variations-strip')).toContainText('Variations: 3 of 3');
    await expect(page.getByTestId('waiting')).toHaveCount(0);
    const ids = await variations
      .locator('img')
      .evaluateAll((imgs) => imgs.map((img) => (img as HTMLImageElement).getAttribute('src')!.split('/')[2]));
    expect(new Set(ids).size, 'three images, each stored under its own id').toBe(3);
    // The first to arrive is the result; choosing another makes it the result.
    await expect(variations.first()).toHaveAttribute('aria-pressed', 'true');
    await variations.nth(2).click();
    await expect(variations.nth(2)).toHaveAttribute('aria-pressed', 'true');
    await expect(page.getByTestId('result-image')).toHaveAttribute('src', `/images/${ids[2]}`);
    // Editing goes on from the chosen one.
    await page.getByTestId('keep-editing').click();
    await stageReady(page);
    await expect(page.getByTestId('sources').locator('img')).toHaveAttribute('src', `/images/${ids[2]}`);

    // All three are in the gallery, each with its cost.
    await page.goto(`/gallery?q=${word}`);
    await expect(page.getByTestId('gallery-item')).toHaveCount(3);
    for (const id of ids) {
      await page.goto(`/gallery/${id}`);
      await expect(page.locator('main')).toContainText('$');
    }
  });
});
