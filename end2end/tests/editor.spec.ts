// The editor in a real browser against the release server and its built-in simulator:
// generate from text; upload, paint, edit, download and check that nothing outside the stroke
// changed; a stored image opened directly; exact painting at 400 %; undo and redo; several
// sources; shortcuts; the keyboard alone; touch; mask files; paste; the model's image limit;
// files refused as they are added; a simulator failure; Cancel.
import type { Page } from '@playwright/test';
import { test, expect, open } from './fixtures';
import { encodePng } from './png';
import { changesOutside, downloaded, drag, maskPixels, rgbaOf, screenAt, stageReady, view } from './stage';

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
    await open(page, js, '/editor');
    await page.getByTestId('file-input').setInputFiles({
      name: 'source.png',
      mimeType: 'image/png',
      buffer: sourcePng(),
    });
    await stageReady(page);

    // One horizontal stroke through the middle with a 40-pixel brush (image pixels).
    await page.getByTestId('brush-size-number').fill('40');
    const cy = SOURCE_H / 2;
    await drag(page, [
      [0.3 * SOURCE_W, cy],
      [0.5 * SOURCE_W, cy],
      [0.7 * SOURCE_W, cy],
    ]);
    await expect(page.getByTestId('mask-hint')).toContainText('Only the painted area');

    await page.getByTestId('prompt').fill('make the stroke glow');
    await page.getByTestId('submit').click();
    await expect(page.getByTestId('result-image')).toBeVisible({ timeout: 20_000 });
    const result = await downloaded(page, () => page.getByTestId('download').click());

    // The brush's radius and a pixel of rounding around the stroke may change; nothing else.
    const r = 20 + 1;
    const diff = await changesOutside(page, sourcePng(), result, {
      x0: 0.3 * SOURCE_W - r,
      x1: 0.7 * SOURCE_W + r,
      y0: cy - r,
      y1: cy + r,
    });
    expect(diff.sizes).toEqual([SOURCE_W, SOURCE_H, SOURCE_W, SOURCE_H]);
    expect(diff.changedOutside, 'pixels outside the stroke changed').toEqual([]);
    expect(diff.outside).toBeGreaterThan(SOURCE_W * SOURCE_H * 0.6);
    expect(diff.changedInside).toBeGreaterThan(1000);

    await page.getByTestId('before-after').click();
    await expect(page.getByTestId('before-after')).toHaveText('Show after');
    // The stage compares too: a slider, and a button held to see the source.
    await expect(page.getByTestId('compare-slider')).toBeVisible();
    await page.getByTestId('compare-slider').fill('0');
    await page.getByTestId('keep-editing').click();
    await expect(page.getByTestId('result')).toHaveCount(0);
    await expect(page.getByTestId('sources').locator('img')).toHaveCount(1);
    await stageReady(page);
  });

  test('a small stroke on a large photo is edited at higher detail, and nothing outside it changes', async ({
    guarded: page,
    js,
  }) => {
    test.setTimeout(60_000);
    const [w, h] = [3000, 2000];
    const big = encodePng(w, h, (x, y) => [(x >> 4) % 256, (y >> 3) % 256, 120, 255]);
    await open(page, js, '/editor');
    await page.getByTestId('file-input').setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: big });
    await stageReady(page);
    await expect(page.getByTestId('detail')).toBeChecked();
    await page.getByTestId('brush-size-number').fill('60');
    await drag(page, [
      [1400, 1000],
      [1600, 1000],
    ]);
    await page.getByTestId('prompt').fill('a small red buoy');
    await page.getByTestId('submit').click();
    await expect(page.getByTestId('result-image')).toBeVisible({ timeout: 30_000 });
    // A 260×60 box with its context is a 640×512 frame (5:4) of a 6 MP photo: 4.3 times the
    // detail of sending it whole.
    await expect(page.getByTestId('detail-gain')).toContainText('Edited at 4.3× the detail');
    const result = await downloaded(page, () => page.getByTestId('download').click());
    const r = 30 + 1;
    const diff = await changesOutside(page, big, result, { x0: 1400 - r, x1: 1600 + r, y0: 1000 - r, y1: 1000 + r });
    expect(diff.sizes).toEqual([w, h, w, h]);
    expect(diff.changedOutside, 'pixels outside the stroke changed').toEqual([]);
    expect(diff.changedInside).toBeGreaterThan(5000);
  });

  test('expand canvas: the image grows to a wider ratio, every original pixel kept, the new area filled', async ({
    guarded: page,
    js,
  }) => {
    await open(page, js, '/editor');
    await page.getByTestId('model').selectOption('gemini-3-pro-image');
    await page.getByTestId('file-input').setInputFiles({ name: 'source.png', mimeType: 'image/png', buffer: sourcePng() });
    await stageReady(page);
    // 480×320 (3:2) grown to 16:9 in the middle: 569 wide, 44 and 45 px added.
    await page.getByTestId('expand-ratio').selectOption('16:9');
    await expect(page.getByTestId('expand-summary')).toContainText('New canvas 569×320 (16:9): 44 px left, 45 px right');
    await page.getByTestId('prompt').fill('continue the pattern');
    await page.getByTestId('submit').click();
    await expect(page.getByTestId('result-image')).toBeVisible({ timeout: 20_000 });
    const result = await downloaded(page, () => page.getByTestId('download').click());
    const out = await rgbaOf(page, result);
    let changed = 0;
    for (let y = 0; y < SOURCE_H; y++)
      for (let x = 0; x < SOURCE_W; x++) {
        const [r, g, b] = out.at(x + 44, y);
        if (r !== (x * 7) % 256 || g !== (y * 5) % 256 || b !== (x + y) % 256) changed++;
      }
    // The new area far from the seam is not the stretched edge it started from.
    let filled = 0;
    for (let y = 0; y < SOURCE_H; y++) {
      const [r, g, b] = out.at(10, y);
      if (r !== 0 || g !== (y * 5) % 256 || b !== y % 256) filled++;
    }
    const check = { width: out.width, height: out.height, changed, filled };
    expect([check.width, check.height]).toEqual([569, 320]);
    expect(check.changed, 'original pixels changed').toBe(0);
    expect(check.filled).toBeGreaterThan(300);
    // The canvas grew once: the next edit keeps the size unless asked again.
    await expect(page.getByTestId('expand-ratio')).toHaveValue('');
  });

  test('opening a stored image directly (a new tab, a reload) edits it through a mask', async ({ guarded: page, js, request, origin }) => {
    const made = await request.post('/api/generate_image', {
      headers: { Origin: origin },
      data: { request: { prompt: 'a tidy desk', model: 'gemini-3.1-flash-image', aspect_ratio: '1:1', image_size: '512' } },
    });
    expect(made.status(), await made.text()).toBe(200);
    const { id, width, height } = await made.json();
    await open(page, js, `/editor?source=${id}`);
    await stageReady(page);
    await page.getByTestId('brush-size-number').fill('30');
    await drag(page, [
      [width * 0.25, height * 0.5],
      [width * 0.75, height * 0.5],
    ]);
    await page.getByTestId('prompt').fill('a red pen on the desk');
    await page.getByTestId('submit').click();
    await expect(page.getByTestId('result-image')).toBeVisible({ timeout: 20_000 });
    await expect(page.getByTestId('error')).toHaveCount(0);
    const result = await downloaded(page, () => page.getByTestId('download').click());
    const r = 15 + 1;
    const diff = await changesOutside(page, `/images/${id}`, result, {
      x0: width * 0.25 - r,
      x1: width * 0.75 + r,
      y0: height * 0.5 - r,
      y1: height * 0.5 + r,
    });
    expect(diff.sizes).toEqual([width, height, width, height]);
    expect(diff.changedOutside).toEqual([]);
    expect(diff.changedInside).toBeGreaterThan(100);

    // A reload opens the same image, sized and paintable again.
    await page.reload();
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
    await stageReady(page);
    expect((await view(page)).zoom).toBeGreaterThan(0);
  });

  test('at 400 % a one-pixel brush paints exactly the pixels it crosses', async ({ guarded: page, js }) => {
    await open(page, js, '/editor');
    await page.getByTestId('file-input').setInputFiles({ name: 'source.png', mimeType: 'image/png', buffer: sourcePng() });
    await stageReady(page);
    await page.getByTestId('zoom-100').click();
    for (let i = 0; i < 7; i++) await page.getByTestId('zoom-in').click();
    const zoom = (await view(page)).zoom;
    expect(zoom).toBeGreaterThanOrEqual(4);
    await expect(page.getByTestId('zoom-level')).toHaveText(`${Math.round(zoom * 100)} %`);
    await page.getByTestId('brush-size-number').fill('1');
    // Around the centre of the stage, which the 100 % view keeps on the image's centre.
    const [x0, x1, y] = [230, 250, 160];
    await drag(page, [
      [x0 + 0.5, y + 0.5],
      [x1 + 0.5, y + 0.5],
    ]);
    // A rectangle, drawn in image pixels too.
    await page.getByTestId('tool-rectangle').click();
    await drag(page, [
      [232, 150],
      [236, 153],
    ]);
    const mask = await maskPixels(page, await downloaded(page, () => page.getByTestId('mask-export').click()));
    expect([mask.width, mask.height]).toEqual([SOURCE_W, SOURCE_H]);
    expect(mask.grey).toBe(0);
    const line = Array.from({ length: x1 - x0 + 1 }, (_, i) => `${x0 + i},${y}`);
    const rect: string[] = [];
    for (let ry = 150; ry < 153; ry++) for (let rx = 232; rx < 236; rx++) rect.push(`${rx},${ry}`);
    expect(mask.painted.map(([px, py]) => `${px},${py}`).sort()).toEqual([...line, ...rect].sort());
  });

  test('every mask change can be undone and redone', async ({ guarded: page, js }) => {
    await open(page, js, '/editor');
    await page.getByTestId('file-input').setInputFiles({ name: 'source.png', mimeType: 'image/png', buffer: sourcePng() });
    await stageReady(page);
    const hint = page.getByTestId('mask-hint');
    await expect(page.getByTestId('undo')).toBeDisabled();
    await drag(page, [
      [100, 100],
      [200, 120],
    ]);
    await expect(hint).toContainText('Only the painted area');
    await page.keyboard.press('ControlOrMeta+z');
    await expect(hint).toContainText('Nothing painted');
    await page.keyboard.press('ControlOrMeta+Shift+z');
    await expect(hint).toContainText('Only the painted area');
    await page.getByTestId('undo').click();
    await expect(hint).toContainText('Nothing painted');
    await page.getByTestId('redo').click();
    await expect(hint).toContainText('Only the painted area');
    // Clear, invert and fill are steps too.
    await page.keyboard.press('x');
    await expect(hint).toContainText('Nothing painted');
    await page.keyboard.press('Control+y');
    await expect(hint).toContainText('Nothing painted');
    await page.keyboard.press('ControlOrMeta+z');
    await expect(hint).toContainText('Only the painted area');
    await page.getByTestId('mask-fill').click();
    await page.getByTestId('mask-invert').click();
    await expect(hint).toContainText('Nothing painted');
    await page.keyboard.press('ControlOrMeta+z');
    await page.keyboard.press('ControlOrMeta+z');
    await expect(hint).toContainText('Only the painted area');
    await expect(page.getByTestId('redo')).toBeEnabled();
  });

  test('with several images, any one can be edited and the rest are references', async ({ guarded: page, js }) => {
    await open(page, js, '/editor');
    const png = sourcePng();
    await page.getByTestId('file-input').setInputFiles([
      { name: 'first.png', mimeType: 'image/png', buffer: png },
      { name: 'second.png', mimeType: 'image/png', buffer: png },
    ]);
    const roles = page.getByTestId('source-role');
    await expect(roles).toHaveText(['Editing', 'Reference']);
    await stageReady(page);
    await drag(page, [
      [50, 50],
      [150, 50],
    ]);
    await page.getByRole('button', { name: 'Edit second.png' }).click();
    await expect(roles).toHaveText(['Reference', 'Editing']);
    // Each image has its own mask.
    await expect(page.getByTestId('mask-hint')).toContainText('Nothing painted');
    await page.getByRole('button', { name: 'Edit first.png' }).click();
    await expect(page.getByTestId('mask-hint')).toContainText('Only the painted area');
    // The order is the order they are sent in.
    await page.getByRole('button', { name: 'Move first.png later' }).click();
    await expect(roles).toHaveText(['Reference', 'Editing']);
  });

  test('shortcuts pick tools, size the brush and open the sheet', async ({ guarded: page, js }) => {
    await open(page, js, '/editor');
    await page.getByTestId('file-input').setInputFiles({ name: 'source.png', mimeType: 'image/png', buffer: sourcePng() });
    await stageReady(page);
    for (const [key, tool] of [
      ['e', 'tool-eraser'],
      ['r', 'tool-rectangle'],
      ['l', 'tool-lasso'],
      ['h', 'tool-pan'],
      ['b', 'tool-brush'],
    ]) {
      await page.keyboard.press(key);
      await expect(page.getByTestId(tool)).toHaveAttribute('aria-pressed', 'true');
    }
    const size = page.getByTestId('brush-size-number');
    await expect(size).toHaveValue('40');
    await page.keyboard.press(']');
    await expect(size).toHaveValue('45');
    await page.keyboard.press('[');
    await expect(size).toHaveValue('39');
    await page.keyboard.press('[');
    await expect(size).toHaveValue('34');
    // Typing in the prompt is typing, not shortcuts.
    await page.getByTestId('prompt').fill('');
    await page.getByTestId('prompt').press('e');
    await expect(page.getByTestId('tool-brush')).toHaveAttribute('aria-pressed', 'true');
    await page.getByTestId('prompt').blur();
    await page.keyboard.press('?');
    const sheet = page.getByTestId('shortcuts');
    await expect(sheet).toBeVisible();
    await expect(sheet).toContainText('Undo');
    await expect(page.getByTestId('shortcuts-close')).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(sheet).toBeHidden();
  });

  test('the mask can be made with the keyboard alone', async ({ guarded: page, js }) => {
    await open(page, js, '/editor');
    await page.getByTestId('file-input').setInputFiles({ name: 'source.png', mimeType: 'image/png', buffer: sourcePng() });
    await stageReady(page);
    await page.getByTestId('mask-canvas').focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Shift+ArrowDown');
    await expect(page.getByTestId('announce')).toContainText('Enter paints it');
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('mask-hint')).toContainText('Only the painted area');
    await expect(page.getByTestId('announce')).toContainText('Rectangle painted');
    const mask = await maskPixels(page, await downloaded(page, () => page.getByTestId('mask-export').click()));
    // The rectangle starts a quarter in (120, 80, 240×160); a step is 1 % of the longer side
    // (4.8 pixels): moved right by one and a step taller, its pixel centres cover 240×165.
    expect(mask.painted.length).toBe(240 * 165);
  });

  test('touch: one finger paints, two pinch to zoom and pan', async ({ guarded: page, js, isMobile }) => {
    test.skip(!isMobile, 'the phone project has touch');
    await open(page, js, '/editor');
    await page.getByTestId('file-input').setInputFiles({ name: 'source.png', mimeType: 'image/png', buffer: sourcePng() });
    await stageReady(page);
    const [x, y] = await screenAt(page, SOURCE_W / 2, SOURCE_H / 2);
    await page.touchscreen.tap(x, y);
    await expect(page.getByTestId('mask-hint')).toContainText('Only the painted area');
    const before = (await view(page)).zoom;
    // Two fingers moving apart: synthetic touch pointers, as Chromium sends them.
    await page.getByTestId('mask-canvas').evaluate((canvas, [cx, cy]) => {
      const rect = canvas.getBoundingClientRect();
      const fire = (type: string, id: number, dx: number) =>
        canvas.dispatchEvent(
          new PointerEvent(type, {
            pointerId: id,
            pointerType: 'touch',
            clientX: cx + dx,
            clientY: cy,
            bubbles: true,
            cancelable: true,
            isPrimary: id === 11,
          }),
        );
      void rect;
      fire('pointerdown', 11, -20);
      fire('pointerdown', 12, 20);
      for (let d = 20; d <= 80; d += 10) {
        fire('pointermove', 11, -d);
        fire('pointermove', 12, d);
      }
      fire('pointerup', 11, -80);
      fire('pointerup', 12, 80);
    }, [x, y]);
    await expect.poll(async () => (await view(page)).zoom).toBeGreaterThan(before * 3);
    // Two fingers moving together pan the view by as much as they moved, and zoom nothing.
    const panned = await view(page);
    await page.getByTestId('mask-canvas').evaluate((canvas, [cx, cy]) => {
      const fire = (type: string, id: number, dx: number, dy: number) =>
        canvas.dispatchEvent(
          new PointerEvent(type, {
            pointerId: id,
            pointerType: 'touch',
            clientX: cx + dx,
            clientY: cy + dy,
            bubbles: true,
            cancelable: true,
            isPrimary: id === 21,
          }),
        );
      fire('pointerdown', 21, -30, 0);
      fire('pointerdown', 22, 30, 0);
      for (let d = 10; d <= 60; d += 10) {
        fire('pointermove', 21, -30 + d, d / 2);
        fire('pointermove', 22, 30 + d, d / 2);
      }
      fire('pointerup', 21, 30, 30);
      fire('pointerup', 22, 90, 30);
    }, [x, y]);
    await expect.poll(async () => (await view(page)).x).toBeCloseTo(panned.x + 60, 0);
    const after = await view(page);
    expect(after.y).toBeCloseTo(panned.y + 30, 0);
    expect(after.zoom).toBeCloseTo(panned.zoom, 6);
    // The pinch painted nothing more than the tap: one undo clears the mask.
    await page.getByTestId('undo').click();
    await expect(page.getByTestId('mask-hint')).toContainText('Nothing painted');
  });

  test('a mask PNG can be imported, and one of another size is refused', async ({ guarded: page, js }) => {
    await open(page, js, '/editor');
    await page.getByTestId('file-input').setInputFiles({ name: 'source.png', mimeType: 'image/png', buffer: sourcePng() });
    await stageReady(page);
    const mask = encodePng(SOURCE_W, SOURCE_H, (x, y) => (x >= 10 && x < 20 && y >= 30 && y < 35 ? [255, 255, 255, 255] : [0, 0, 0, 255]));
    await page.getByTestId('mask-import').setInputFiles({ name: 'mask.png', mimeType: 'image/png', buffer: mask });
    await expect(page.getByTestId('mask-hint')).toContainText('Only the painted area');
    const out = await maskPixels(page, await downloaded(page, () => page.getByTestId('mask-export').click()));
    expect(out.painted.length).toBe(50);
    const small = encodePng(10, 10, () => [255, 255, 255, 255]);
    await page.getByTestId('mask-import').setInputFiles({ name: 'small.png', mimeType: 'image/png', buffer: small });
    await expect(page.getByTestId('error')).toContainText('10×10');
    await expect(page.getByTestId('error')).toContainText(`${SOURCE_W}×${SOURCE_H}`);
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

  test('a file that is not a PNG, JPEG or WebP is refused as it is added, naming what it is', async ({ guarded: page, js }) => {
    await open(page, js, '/editor');
    const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
    await page.getByTestId('file-input').setInputFiles([
      { name: 'cat.gif', mimeType: 'image/gif', buffer: gif },
      { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image at all') },
    ]);
    const refused = page.getByTestId('source-refused');
    await expect(refused).toHaveCount(2);
    await expect(refused.nth(0)).toContainText('GIF');
    await expect(refused.nth(0)).toContainText('PNG, JPEG or WebP');
    await expect(refused.nth(1)).toContainText('notes.png');
    await expect(refused.nth(1)).toContainText('not an image');
    // Nothing to edit: the page still offers to generate, and refused files take no room.
    await expect(page.getByTestId('submit')).toHaveText('Generate');
    await expect(page.getByTestId('sources-count')).toContainText('0 of up to');
  });

  test('the server refuses a wrong file type the browser let through, naming it', async ({ request, origin }) => {
    const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
    const res = await request.post('/api/edit_image', {
      headers: { Origin: origin },
      multipart: { prompt: 'make it blue', model: 'gemini-3.1-flash-image', image: { name: 'cat.gif', mimeType: 'image/gif', buffer: gif } },
    });
    expect(res.status()).toBe(415);
    const body = await res.json();
    expect(JSON.stringify(body)).toContain('GIF');
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
    // The job streams its progress: Cancel drops the stream (or, before the answer, the
    // request), which the browser reports as an aborted load.
    const aborted = page.waitForEvent('requestfailed', (r) => r.url().endsWith('/api/generate_stream'));
    await page.getByTestId('prompt').fill('a very slow cat [sim:slow]');
    await page.getByTestId('submit').click();
    await expect(page.getByTestId('waiting')).toBeVisible();
    await expect(page.getByTestId('phase')).toContainText('Asking Gemini');
    // Escape cancels, like the button.
    await page.keyboard.press('Escape');
    expect((await aborted).failure()?.errorText).toContain('ABORTED');
    await expect(page.getByTestId('waiting')).toHaveCount(0);
    await expect(page.getByTestId('submit')).toBeEnabled();
    await expect(page.getByTestId('result')).toHaveCount(0);
  });
});

/** Submits and waits for the job's answer: an HTTP error, or (streamed) a 200 ending in the
 * failure the page shows. */
async function submitExpectingHttpError(page: Page) {
  const answer = page.waitForResponse((r) => r.url().includes('/api/'));
  await page.getByTestId('submit').click();
  const res = await answer;
  if (res.url().endsWith('_stream')) {
    // The stream's body belongs to the page (it reads it as it comes); its last line, the
    // failure, is what the page then shows.
    expect(res.status()).toBe(200);
    await expect(page.getByTestId('error')).toBeVisible();
  } else {
    expect(res.status()).toBeGreaterThanOrEqual(400);
  }
}
