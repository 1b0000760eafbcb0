// The editor in a real browser against the release server and its built-in simulator:
// generate from text; upload, paint, edit, download and check that nothing outside the stroke
// changed; paste; the model's image limit; a wrong file type; a simulator failure; Cancel.
import * as fs from 'node:fs';
import type { Page } from '@playwright/test';
import { test, expect, open } from './fixtures';
import { encodePng } from './png';

const SOURCE_W = 480;
const SOURCE_H = 320;
const sourcePixel = (x: number, y: number): [number, number, number, number] => [
  (x * 7) % 256,
  (y * 5) % 256,
  (x + y) % 256,
  255,
];
const sourcePng = () => encodePng(SOURCE_W, SOURCE_H, sourcePixel);

test.describe('with JavaScript off', () => {
  test('the editor says it needs JavaScript', async ({ guarded: page, js }) => {
    test.skip(js, 'only without JavaScript');
    await open(page, js, '/editor');
    await expect(page.getByTestId('editor-needs-js')).toBeVisible();
    await expect(page.getByRole('link', { name: 'Open the gallery' })).toBeVisible();
  });
});

test.describe('with JavaScript on', () => {
  test.beforeEach(async ({ js }) => {
    test.skip(!js, 'the editor needs JavaScript');
  });

  test('generates an image from text and shows its cost', async ({ guarded: page, js }) => {
    await open(page, js, '/editor');
    await page.getByTestId('prompt').fill('a lighthouse at dusk');
    await page.getByTestId('aspect-ratio').selectOption('16:9');
    await page.getByTestId('submit').click();
    await expect(page.getByTestId('waiting')).toBeVisible();
    const image = page.getByTestId('result-image');
    await expect(image).toBeVisible({ timeout: 20_000 });
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1376);
    await expect(page.getByTestId('cost')).toContainText('$');
  });

  test('an edit changes nothing outside the painted stroke', async ({ guarded: page, js }) => {
    // Moving 600 k pixel values between the browser and the test takes a while on 2 cores.
    test.setTimeout(90_000);
    await open(page, js, '/editor');
    await page.getByTestId('file-input').setInputFiles({
      name: 'source.png',
      mimeType: 'image/png',
      buffer: sourcePng(),
    });
    const canvas = page.getByTestId('mask-canvas');
    await expect(canvas).toBeVisible();
    await expect.poll(() => canvas.evaluate((c: HTMLCanvasElement) => c.width)).toBe(SOURCE_W);

    // One horizontal stroke through the middle, brush 40 display pixels.
    await page.getByTestId('brush-size').fill('40');
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.3, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, y, { steps: 8 });
    await page.mouse.move(box.x + box.width * 0.7, y, { steps: 8 });
    await page.mouse.up();
    await expect(page.getByTestId('mask-hint')).toContainText('Only the painted area');

    await page.getByTestId('prompt').fill('make the stroke glow');
    await page.getByTestId('submit').click();
    await expect(page.getByTestId('result-image')).toBeVisible({ timeout: 20_000 });

    const download = page.waitForEvent('download');
    await page.getByTestId('download').click();
    const file = await (await download).path();
    const result = await decode(page, fs.readFileSync(file));
    expect([result.width, result.height]).toEqual([SOURCE_W, SOURCE_H]);

    // Source pixels per display pixel, and a band around the stroke that may change
    // (brush radius, its round caps, and a pixel of anti-aliasing).
    const scale = SOURCE_W / box.width;
    const radius = (20 + 2) * scale;
    const cy = SOURCE_H / 2;
    const [x0, x1] = [0.3 * SOURCE_W - radius, 0.7 * SOURCE_W + radius];
    let outside = 0;
    let changedInside = 0;
    const changedOutside: string[] = [];
    for (let py = 0; py < SOURCE_H; py++) {
      for (let px = 0; px < SOURCE_W; px++) {
        const i = (py * SOURCE_W + px) * 4;
        const want = sourcePixel(px, py);
        const same = want.every((v, c) => result.data[i + c] === v);
        const inBand = Math.abs(py + 0.5 - cy) <= radius && px + 0.5 >= x0 && px + 0.5 <= x1;
        if (!inBand) {
          outside++;
          if (!same && changedOutside.length < 10) changedOutside.push(`(${px},${py})`);
        } else if (Math.abs(py + 0.5 - cy) < 5 && !same) {
          changedInside++;
        }
      }
    }
    expect(changedOutside, 'pixels outside the stroke changed').toEqual([]);
    expect(outside).toBeGreaterThan(SOURCE_W * SOURCE_H * 0.6);
    expect(changedInside).toBeGreaterThan(100);

    await page.getByTestId('before-after').click();
    await expect(page.getByTestId('before-after')).toHaveText('Show after');
    await page.getByTestId('keep-editing').click();
    await expect(page.getByTestId('result')).toHaveCount(0);
    await expect(page.getByTestId('sources').locator('img')).toHaveCount(1);
  });

  test('an image pasted from the clipboard becomes a source', async ({ guarded: page, js }) => {
    await open(page, js, '/editor');
    const bytes = Array.from(sourcePng());
    await page.evaluate((data) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], 'pasted.png', { type: 'image/png' }));
      window.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer }));
    }, bytes);
    await expect(page.getByTestId('sources').locator('img')).toHaveCount(1);
    await expect(page.getByTestId('mask-canvas')).toBeVisible();
  });

  test('no more images are added than the chosen model takes', async ({ guarded: page, js }) => {
    await open(page, js, '/editor');
    await page.getByTestId('model').selectOption('gemini-3.1-flash-lite-image');
    // Lite takes three input images, and the mask is one of them.
    await expect(page.getByTestId('sources-count')).toContainText('0 of up to 2');
    const png = sourcePng();
    const files = [1, 2, 3, 4, 5].map((i) => ({ name: `photo-${i}.png`, mimeType: 'image/png', buffer: png }));
    await page.getByTestId('file-input').setInputFiles(files);
    await expect(page.getByTestId('sources').locator('img')).toHaveCount(2);
    await expect(page.getByTestId('sources-notice')).toContainText('at most 2 images, so 3 were not added');
    await expect(page.getByTestId('file-input')).toBeDisabled();

    // A model that takes more leaves room again; going back to one that takes fewer with
    // more loaded asks for some to be removed, and Edit waits.
    await page.getByTestId('model').selectOption('gemini-3.1-flash-image');
    await page.getByTestId('file-input').setInputFiles(files.slice(0, 3));
    await expect(page.getByTestId('sources').locator('img')).toHaveCount(5);
    await page.getByTestId('model').selectOption('gemini-3.1-flash-lite-image');
    await expect(page.getByTestId('sources-notice')).toContainText('remove 3 to edit');
    await expect(page.getByTestId('submit')).toBeDisabled();
    await page.getByRole('button', { name: 'Remove photo-1.png' }).first().click();
    await page.getByRole('button', { name: 'Remove photo-2.png' }).first().click();
    await page.getByRole('button', { name: 'Remove photo-3.png' }).first().click();
    await expect(page.getByTestId('sources-notice')).toHaveCount(0);
    await expect(page.getByTestId('submit')).toBeEnabled();
  });

  test('a wrong file type gets a message naming it', async ({ guarded: page, js, expectedErrorPaths }) => {
    expectedErrorPaths.push('/api/edit_image');
    await open(page, js, '/editor');
    const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
    await page.getByTestId('file-input').setInputFiles({ name: 'cat.gif', mimeType: 'image/gif', buffer: gif });
    await page.getByTestId('prompt').fill('make it blue');
    // The server answers 415, which the browser logs for the request: expected here.
    await submitExpectingHttpError(page);
    const error = page.getByTestId('error');
    await expect(error).toHaveAttribute('data-kind', 'UnsupportedImage');
    await expect(error).toContainText('GIF');
    await expect(error).toContainText('PNG, JPEG or WebP');
  });

  test('a simulator failure shows the explanation of its kind, never upstream text', async ({ guarded: page, js, expectedErrorPaths }) => {
    expectedErrorPaths.push('/api/generate_image');
    await open(page, js, '/editor');
    await page.getByTestId('prompt').fill('a cat [sim:image-blocked]');
    await submitExpectingHttpError(page);
    await expect(page.getByTestId('error')).toContainText('Image withheld');
    await expect(page.getByTestId('error')).toContainText('You are not charged for blocked images');
    // The simulator's finishMessage, like Gemini's, is for the server's log only.
    await expect(page.getByTestId('error')).not.toContainText('Prohibited Use policy');
  });

  test('Cancel aborts the request', async ({ guarded: page, js }) => {
    await open(page, js, '/editor');
    const aborted = page.waitForEvent('requestfailed', (r) => r.url().endsWith('/api/generate_image'));
    await page.getByTestId('prompt').fill('a very slow cat [sim:slow]');
    await page.getByTestId('submit').click();
    await expect(page.getByTestId('waiting')).toBeVisible();
    await page.getByTestId('cancel').click();
    expect((await aborted).failure()?.errorText).toContain('ABORTED');
    await expect(page.getByTestId('waiting')).toHaveCount(0);
    await expect(page.getByTestId('submit')).toBeEnabled();
    await expect(page.getByTestId('result')).toHaveCount(0);
  });
});

/** Submits and waits for an error answer. */
async function submitExpectingHttpError(page: Page) {
  const answer = page.waitForResponse((r) => r.url().includes('/api/'));
  await page.getByTestId('submit').click();
  expect((await answer).status()).toBeGreaterThanOrEqual(400);
}

/** Decodes image bytes in the browser into RGBA pixels. */
async function decode(page: Page, bytes: Buffer) {
  return page.evaluate(async (data) => {
    const bitmap = await createImageBitmap(new Blob([new Uint8Array(data)]), {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(bitmap, 0, 0);
    const pixels = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    return { width: bitmap.width, height: bitmap.height, data: Array.from(pixels.data) };
  }, Array.from(bytes));
}
