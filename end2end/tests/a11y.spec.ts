// Keyboard and assistive use: axe-core (WCAG 2.1 A and AA rules) finds nothing on any page, in
// the states a user sees (the editor with an image and a result, the delete question); the
// delete question takes focus and Escape answers it; only the current page is marked current;
// nothing overflows a 320-pixel screen.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { test, expect, generateSmall as generate, open } from './fixtures';
import { encodePng } from './png';
import { drag, stageReady } from './stage';

async function expectNoViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const found = results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(found).toEqual([]);
}

test('every page passes axe-core', async ({ guarded: page, js, request, origin, expectedErrorPaths }) => {
  // axe-core runs inside the page, which a browser with JavaScript off cannot do; the pages it
  // checks here are the server's HTML, hydrated.
  test.skip(!js, 'axe-core needs JavaScript in the page');
  expectedErrorPaths.push('/no-such-page');
  const id = await generate(request, origin, 'a quiet harbour');
  for (const path of ['/', '/gallery', `/gallery/${id}`, `/gallery/${id}?confirm=delete`, '/editor', '/no-such-page']) {
    await open(page, js, path);
    await expectNoViolations(page);
  }
});

test('the editor passes axe-core empty, painting, with a result, an error and the shortcut sheet', async ({
  guarded: page,
  js,
  expectedErrorPaths,
}) => {
  test.skip(!js, 'the editor needs JavaScript');
  expectedErrorPaths.push('/api/edit_image');
  await open(page, js, '/editor');
  await expectNoViolations(page);
  const png = encodePng(64, 48, (x, y) => [x * 4, y * 5, 128, 255]);
  await page.getByTestId('file-input').setInputFiles({ name: 'small.png', mimeType: 'image/png', buffer: png });
  await stageReady(page);
  await expectNoViolations(page);
  await drag(page, [
    [10, 10],
    [40, 30],
  ]);
  await expect(page.getByTestId('mask-hint')).toContainText('Only the painted area');
  await expectNoViolations(page);
  await page.getByTestId('prompt').fill('make it warmer [sim:image-blocked]');
  await page.getByTestId('submit').click();
  await expect(page.getByTestId('error')).toBeVisible({ timeout: 20_000 });
  await expectNoViolations(page);
  await page.getByTestId('prompt').fill('make it warmer');
  await page.getByTestId('submit').click();
  await expect(page.getByTestId('result-image')).toBeVisible({ timeout: 20_000 });
  await expectNoViolations(page);
  await page.getByTestId('shortcuts-open').click();
  await expect(page.getByTestId('shortcuts')).toBeVisible();
  await expectNoViolations(page);
});

test('the delete question takes focus and Escape keeps the image', async ({ guarded: page, js, request, origin }) => {
  test.skip(!js, 'moving focus needs JavaScript; without it the page loads with the question');
  const id = await generate(request, origin, 'a kept lighthouse');
  await open(page, js, `/gallery/${id}`);
  await page.getByTestId('detail-delete').click();
  await expect(page.getByTestId('confirm-delete')).toBeVisible();
  await expect(page.getByTestId('confirm-delete-keep')).toBeFocused();
  // The focus is there from the first paint; Escape is the island's, once it is live.
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('confirm-delete')).toHaveCount(0);
  await expect(page).toHaveURL(new RegExp(`/gallery/${id}$`));
  await expect(page.getByTestId('detail-image')).toBeVisible();
});

test('only the current page is marked current in the navigation', async ({ guarded: page, js, request, origin }) => {
  const id = await generate(request, origin, 'a marked page');
  const nav = page.getByRole('navigation', { name: 'Main' });
  const current = page.locator('[aria-current="page"]');
  await open(page, js, '/editor');
  await expect(current).toHaveCount(1);
  await expect(nav.getByRole('link', { name: 'Editor' })).toHaveAttribute('aria-current', 'page');
  await open(page, js, `/gallery/${id}`);
  await expect(current).toHaveCount(0);
  await open(page, js, '/');
  await expect(current).toHaveCount(1);
  await expect(page.getByRole('link', { name: 'GemFlash' })).toHaveAttribute('aria-current', 'page');
});

test('nothing overflows a 320-pixel screen', async ({ guarded: page, js }) => {
  await page.setViewportSize({ width: 320, height: 640 });
  for (const path of ['/', '/editor', '/gallery']) {
    await open(page, js, path);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(wide, path).toBeLessThanOrEqual(320);
  }
});

test('the file picker shows where the focus is', async ({ guarded: page, js }) => {
  test.skip(!js, 'the editor needs JavaScript');
  await open(page, js, '/editor');
  await page.getByTestId('file-input').focus();
  const outline = await page
    .locator('.file-button')
    .first()
    .evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).toBe('solid');
});
