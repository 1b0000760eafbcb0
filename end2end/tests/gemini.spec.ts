// Gemini as it is now, in a real browser against the release server's simulator: models the
// key cannot use shown and refused with the reason; a retired model's own message; thought
// summaries shown while an image is made; grounded sources with Google's suggestions in a
// sandbox; a three-turn conversation, each turn changing nothing outside its mask; a branch.
import type { APIRequestContext } from '@playwright/test';
import { test, expect, open } from './fixtures';
import { changesOutside, downloaded, drag, stageReady } from './stage';

const NB21 = 'gemini-nano-banana-2.1';

async function generateVia(request: APIRequestContext, origin: string, body: Record<string, unknown>) {
  const res = await request.post('/api/generate_image', { headers: { Origin: origin }, data: { request: body } });
  expect(res.status(), await res.text()).toBe(200);
  return res.json();
}

test('models the key cannot use are shown unavailable with the reason, and a retired one says so', { tag: '@models' }, async ({
  guarded: page,
  js,
  request,
  origin,
}) => {
  // The start page warns the operator (with JavaScript off too: it is server-rendered).
  await open(page, js, '/');
  const warnings = page.getByTestId('model-warnings');
  await expect(warnings).toContainText('Nano Banana 2 Lite (gemini-3.1-flash-lite-image) cannot be used');
  await expect(warnings).toContainText('deprecated by Google on 2026-10-06');
  await expect(page.locator('[data-model-id="gemini-3.1-flash-lite-image"] [data-testid="model-state"]')).toHaveText(
    'unavailable',
  );
  // A call to the retired id: its own kind and sentence, naming another model.
  const res = await request.post('/api/generate_image', {
    headers: { Origin: origin },
    data: { request: { prompt: 'a kite', model: 'gemini-3.1-flash-lite-image' } },
  });
  expect(res.status()).toBe(422);
  const error = await res.json();
  expect(error.kind).toBe('model_unavailable');
  expect(error.message).toContain('was retired or is not available to this server');
  expect(error.message).toContain('such as Nano Banana 2.1');
  if (!js) return;
  // The editor will not offer it, and says why.
  await open(page, js, '/editor');
  const lite = page.getByTestId('model').locator('option[value="gemini-3.1-flash-lite-image"]');
  await expect(lite).toHaveAttribute('disabled', '');
  await expect(lite).toHaveAttribute('title', /does not list this model/);
  await expect(page.getByTestId('model')).toHaveValue(NB21);
  await page.getByTestId('model').selectOption('gemini-3.1-flash-image');
  await expect(page.getByTestId('model-notice')).toContainText('Google deprecated Nano Banana 2 on 2026-10-06');
  await expect(page.getByTestId('model-notice')).toContainText('Choose Nano Banana 2.1');
});

test.describe('with JavaScript on', () => {
  test.beforeEach(async ({ js }) => {
    test.skip(!js, 'the editor needs JavaScript');
  });

  test('thought summaries show while the image is made, then the image', async ({ guarded: page, js }) => {
    await open(page, js, '/editor');
    await expect(page.getByTestId('model')).toHaveValue(NB21);
    await page.getByTestId('thinking-level').selectOption('high');
    await page.getByTestId('prompt').fill('a lighthouse in fog');
    await page.getByTestId('submit').click();
    await expect(page.getByTestId('thought')).toBeVisible({ timeout: 20_000 });
    await expect(page.getByTestId('thought').locator('strong')).toHaveText(
      /^(Reading the request|Planning the composition|Checking the details)$/,
    );
    await expect(page.getByTestId('result-image')).toBeVisible({ timeout: 20_000 });
    await expect(page.getByTestId('progress')).toHaveCount(0);
    await expect(page.getByTestId('announce')).not.toContainText('Working');
  });

  test('a grounded image lists its sources and Google\'s suggestions in a sandbox', async ({ guarded: page, js }) => {
    await open(page, js, '/editor');
    await page.getByTestId('grounding').check();
    await page.getByTestId('prompt').fill('the Eiffel tower at night');
    await page.getByTestId('submit').click();
    const sources = page.getByTestId('grounding-sources');
    await expect(sources).toBeVisible({ timeout: 20_000 });
    await expect(sources.getByRole('link').first()).toHaveAttribute('href', /^https:\/\//);
    await expect(sources.getByRole('link').first()).toHaveAttribute('rel', /noopener/);
    const frame = page.getByTestId('search-suggestions');
    await expect(frame).toHaveAttribute('sandbox', 'allow-popups allow-popups-to-escape-sandbox');
    await expect(page.frameLocator('[data-testid="search-suggestions"]').locator('a.chip')).toHaveText(
      'the Eiffel tower at night',
    );
    // Its own page shows them too.
    await page.getByRole('link', { name: 'Details' }).click();
    await expect(page.getByTestId('grounding-queries')).toContainText('the Eiffel tower at night');
    await expect(page.getByTestId('provenance')).toContainText('SynthID');
  });

  test('a three-turn conversation keeps its context, each turn only inside its mask, and can branch', async ({
    guarded: page,
    js,
    request,
    origin,
  }) => {
    // Three edits, each checked pixel by pixel: more than the default half-minute on a phone.
    test.setTimeout(90_000);
    const first = await generateVia(request, origin, { prompt: 'a red boat on a lake', model: NB21, aspect_ratio: '1:1' });
    await open(page, js, `/editor?source=${first.id}`);
    await stageReady(page);
    const { width, height } = first;
    const turn = async (prompt: string, sourceUrl: string, turns: number) => {
      await page.getByTestId('brush-size-number').fill('40');
      await drag(page, [
        [width * 0.3, height * 0.5],
        [width * 0.7, height * 0.5],
      ]);
      await page.getByTestId('prompt').fill(prompt);
      await page.getByTestId('submit').click();
      await expect(page.getByTestId('result-image')).toBeVisible({ timeout: 20_000 });
      await expect(page.getByTestId('context-turns')).toContainText(
        `the ${turns} earlier turn${turns === 1 ? '' : 's'} of this conversation`,
      );
      const result = await downloaded(page, () => page.getByTestId('download').click());
      const r = 20 + 1;
      const diff = await changesOutside(page, sourceUrl, result, {
        x0: width * 0.3 - r,
        x1: width * 0.7 + r,
        y0: height * 0.5 - r,
        y1: height * 0.5 + r,
      });
      expect(diff.changedOutside, `turn ${turns + 1}`).toEqual([]);
      expect(diff.changedInside).toBeGreaterThan(100);
      return page.getByTestId('download').getAttribute('href');
    };
    const second = await turn('make the boat blue', `/images/${first.id}`, 1);
    await page.getByTestId('keep-editing').click();
    await stageReady(page);
    await expect(page.getByTestId('turn')).toHaveCount(2);
    const secondId = second!.split('/')[2].split('?')[0];
    await turn('add a white sail', `/images/${secondId}`, 2);

    // Branch from turn 1: the model is sent that turn alone.
    await page.getByTestId('keep-editing').click();
    await expect(page.getByTestId('turn')).toHaveCount(3);
    await page.getByTestId('branch').first().click();
    await stageReady(page);
    await expect(page.getByTestId('turn')).toHaveCount(1);
    await turn('make the boat green', `/images/${first.id}`, 1);
  });
});
