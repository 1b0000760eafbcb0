// Token access control in a real browser, under the real CSP: a visitor is sent to sign in, a
// wrong token is refused, the right one opens the app (the editor makes an image, the gallery
// shows it), and signing out closes it again. Runs against its own server (project
// "access-token"), started with GEMFLASH_ACCESS=token.
import { test, expect, open } from './fixtures';
import { accessToken } from '../access-token';

test('sign in, make an image, see it in the gallery, sign out', async ({ guarded: page, js, expectedErrorPaths }) => {
  // The wrong token's answer is a 401 page, on purpose.
  expectedErrorPaths.push('/login');
  await page.goto('/gallery');
  await expect(page).toHaveURL('/login');
  await page.getByTestId('login-token').fill('not-the-token-0123456789');
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('login-error')).toContainText('not valid');

  await page.getByTestId('login-token').fill(accessToken);
  await page.getByTestId('login-submit').click();
  await expect(page).toHaveURL('/');
  await open(page, js, '/editor');
  const prompt = `signed in ${Date.now()}`;
  await page.getByTestId('prompt').fill(prompt);
  await page.getByTestId('submit').click();
  await expect(page.getByTestId('result-image')).toBeVisible({ timeout: 20_000 });

  await open(page, js, `/gallery?q=${encodeURIComponent(prompt)}`);
  await expect(page.getByTestId('gallery-item')).toHaveCount(1);

  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL('/login');
  await page.goto('/gallery');
  await expect(page).toHaveURL('/login');
});
