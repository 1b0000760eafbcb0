// Helpers for driving the editor's stage: where an image pixel is on the screen (from the
// view the stage publishes), painting in image pixels, and pixel comparisons done in the
// browser (moving megapixels to Node and back is slow).
import type { Page, Download } from '@playwright/test';
import * as fs from 'node:fs';
import { expect } from './fixtures';

export type View = { zoom: number; x: number; y: number };

/** Waits until the editor shows a source being edited on the stage. */
export async function stageReady(page: Page, index = 0) {
  await expect(page.getByTestId('source-role').nth(index)).toHaveText('Editing');
  const canvas = page.getByTestId('mask-canvas');
  await expect(canvas).toBeVisible();
  await canvas.scrollIntoViewIfNeeded();
  return canvas;
}

/** The stage's current view (screen pixels per image pixel, and the image's corner). */
export async function view(page: Page): Promise<View> {
  const raw = await page.getByTestId('mask-canvas').getAttribute('data-view');
  const [zoom, x, y] = (raw ?? '').split(' ').map(Number);
  return { zoom, x, y };
}

/** The page coordinates of the image point (x, y) (pixel centres are at +0.5). */
export async function screenAt(page: Page, x: number, y: number): Promise<[number, number]> {
  const box = (await page.getByTestId('mask-canvas').boundingBox())!;
  const v = await view(page);
  return [box.x + v.x + x * v.zoom, box.y + v.y + y * v.zoom];
}

/** Drags the mouse through image points, with the current tool. */
export async function drag(page: Page, points: [number, number][], steps = 6) {
  // A click on a tool may have scrolled the stage partly out of the window (a phone's is
  // short); the pointer only reaches what is on the screen.
  await page.getByTestId('mask-canvas').scrollIntoViewIfNeeded();
  const [first, ...rest] = points;
  await page.mouse.move(...(await screenAt(page, ...first)));
  await page.mouse.down();
  for (const p of rest) await page.mouse.move(...(await screenAt(page, ...p)), { steps });
  await page.mouse.up();
}

/** The bytes of a download started by `click`. */
export async function downloaded(page: Page, click: () => Promise<void>): Promise<Buffer> {
  const download: Promise<Download> = page.waitForEvent('download');
  await click();
  return fs.readFileSync((await (await download).path())!);
}

/** An image's pixels as the browser decodes them (no colour conversion): its size and RGBA
 * bytes. Meant for small images: the bytes travel back to the test. */
export async function rgbaOf(page: Page, png: Buffer) {
  const { width, height, rgba } = await page.evaluate(async (data) => {
    const bitmap = await createImageBitmap(new Blob([new Uint8Array(data)]), {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(bitmap, 0, 0);
    const px = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    let binary = '';
    for (let i = 0; i < px.length; i += 0x8000) binary += String.fromCharCode(...px.subarray(i, i + 0x8000));
    return { width: bitmap.width, height: bitmap.height, rgba: btoa(binary) };
  }, Array.from(png));
  const px = Buffer.from(rgba, 'base64');
  const at = (x: number, y: number) => Array.from(px.subarray((y * width + x) * 4, (y * width + x) * 4 + 4));
  return { width, height, px, at };
}

/** The painted pixels of a mask PNG (white), as a list of [x, y] and the mask's size. */
export async function maskPixels(page: Page, png: Buffer) {
  const { width, height, px } = await rgbaOf(page, png);
  const painted: [number, number][] = [];
  let grey = 0;
  for (let i = 0; i < px.length; i += 4) {
    if (px[i] === 255 && px[i + 1] === 255 && px[i + 2] === 255) {
      const n = i / 4;
      painted.push([n % width, Math.floor(n / width)]);
    } else if (px[i] !== 0 || px[i + 1] !== 0 || px[i + 2] !== 0) {
      grey++;
    }
  }
  return { width, height, painted, grey };
}

/** Compares two images (bytes, or a same-origin URL) of the same size, in the browser: pixels that differ outside the box
 * (x0..x1, y0..y1, image pixels; a pixel is inside when its centre is), the count outside, and
 * how many differ inside. */
export async function changesOutside(
  page: Page,
  before: Buffer | string,
  after: Buffer | string,
  box: { x0: number; y0: number; x1: number; y1: number },
) {
  return page.evaluate(
    async ({ a, b, box }) => {
      const load = async (data: number[] | string) => {
        const blob = typeof data === 'string' ? await (await fetch(data)).blob() : new Blob([new Uint8Array(data)]);
        const bitmap = await createImageBitmap(blob, {
          colorSpaceConversion: 'none',
          premultiplyAlpha: 'none',
        });
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(bitmap, 0, 0);
        return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
      };
      const [p, q] = [await load(a), await load(b)];
      if (p.width !== q.width || p.height !== q.height) {
        return { sizes: [p.width, p.height, q.width, q.height], changedOutside: [], outside: 0, changedInside: 0 };
      }
      const changedOutside: string[] = [];
      let outside = 0;
      let changedInside = 0;
      for (let y = 0; y < p.height; y++) {
        for (let x = 0; x < p.width; x++) {
          const i = (y * p.width + x) * 4;
          const same =
            p.data[i] === q.data[i] && p.data[i + 1] === q.data[i + 1] && p.data[i + 2] === q.data[i + 2] && p.data[i + 3] === q.data[i + 3];
          const inside = x + 0.5 >= box.x0 && x + 0.5 <= box.x1 && y + 0.5 >= box.y0 && y + 0.5 <= box.y1;
          if (inside) {
            if (!same) changedInside++;
          } else {
            outside++;
            if (!same && changedOutside.length < 10) changedOutside.push(`(${x},${y})`);
          }
        }
      }
      return { sizes: [p.width, p.height, q.width, q.height], changedOutside, outside, changedInside };
    },
    { a: typeof before === 'string' ? before : Array.from(before), b: typeof after === 'string' ? after : Array.from(after), box },
  );
}
