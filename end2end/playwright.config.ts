// GemFlash end-to-end suite: Debian's Chromium (Playwright's own browser download does not
// work offline), driven against the release server that `cargo leptos build --release` made.
// Every page is visited with JavaScript on (hydrated) and off (server-rendered only), on a
// laptop-sized and a phone-sized viewport.
import { defineConfig, devices } from '@playwright/test';
import * as path from 'node:path';
import { accessToken, metricsToken } from './access-token';

const port = Number(process.env.GEMFLASH_E2E_PORT ?? 3100);
const repoRoot = path.resolve(__dirname, '..');
const dataDir = path.join(__dirname, '.data');
// A second server with token access control, for tests/access.spec.ts.
const accessPort = port + 1;
const accessDataDir = path.join(__dirname, '.data-access');
// A third, for tests tagged @destructive (deleting images): a test that lists the gallery must
// never see an image vanish under it because a test beside it deleted it.
const destructivePort = port + 2;
const destructiveDataDir = path.join(__dirname, '.data-destructive');
// A fourth, for tests tagged @models: its simulator lists only some models to the key and
// has retired one, as Google does.
const modelsPort = port + 3;
const modelsDataDir = path.join(__dirname, '.data-models');


const chromium = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

/** The four ways every page is visited: laptop and phone, JavaScript on and off. */
function devicesAndJs() {
  const phone = {
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
  };
  return [
    { name: 'desktop-js', use: { ...devices['Desktop Chrome'], launchOptions: chromium, javaScriptEnabled: true } },
    { name: 'desktop-nojs', use: { ...devices['Desktop Chrome'], launchOptions: chromium, javaScriptEnabled: false } },
    { name: 'phone-js', use: { ...phone, launchOptions: chromium, javaScriptEnabled: true } },
    { name: 'phone-nojs', use: { ...phone, launchOptions: chromium, javaScriptEnabled: false } },
  ];
}

/** The environment of an app server for the suite. */
function appServer(port: number, dataDir: string, extra: Record<string, string> = {}) {
  return {
    command: `rm -rf "${dataDir}" && exec ./target/release/gemflash`,
    cwd: repoRoot,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
    env: {
      GEMFLASH_ADDR: `127.0.0.1:${port}`,
      GEMFLASH_DATA_DIR: dataDir,
      LEPTOS_SITE_ROOT: 'target/site',
      LEPTOS_ENV: 'PROD',
      // An empty key means "no key": the suite always runs against the simulator, whatever
      // the developer's .env says.
      GEMINI_API_KEY: '',
      GEMFLASH_LOG: 'warn',
      // Aborted slow calls must not hold the server's shutdown at the end of the run.
      GEMFLASH_SHUTDOWN_GRACE_SECS: '2',
      ...extra,
    },
  };
}

/** Every test runs from 127.0.0.1: one client as far as the rate limit and the job cap can
 * tell. Both have router tests of their own; here they are out of the way. Tests make images
 * in parallel, and one client may hold all upstream slots but one. */
const unthrottled = {
  // Tests read the upstream attempts from /metrics (how many calls reached the simulator).
  GEMFLASH_METRICS_TOKEN: metricsToken,
  GEMFLASH_RATE_LIMIT_PER_MINUTE: '0',
  GEMFLASH_MAX_JOBS_PER_CLIENT: '64',
  GEMFLASH_MAX_CONCURRENT_CALLS: '64',
};

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: chromium,
    trace: 'off',
  },
  projects: [
    {
      name: 'access-token',
      testMatch: /access\.spec\.ts/,
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: chromium,
        javaScriptEnabled: true,
        baseURL: `http://127.0.0.1:${accessPort}`,
      },
    },
    ...devicesAndJs().flatMap(({ name, use }) => [
      { name, testIgnore: /access\.spec\.ts/, grepInvert: /@destructive|@models/, use },
      {
        name: `${name}-destructive`,
        testIgnore: /access\.spec\.ts/,
        grep: /@destructive/,
        use: { ...use, baseURL: `http://127.0.0.1:${destructivePort}` },
      },
      {
        name: `${name}-models`,
        testIgnore: /access\.spec\.ts/,
        grep: /@models/,
        use: { ...use, baseURL: `http://127.0.0.1:${modelsPort}` },
      },
    ]),
  ],
  webServer: [
    appServer(port, dataDir, unthrottled),
    appServer(accessPort, accessDataDir, {
      GEMFLASH_ACCESS: 'token',
      GEMFLASH_ACCESS_TOKENS: accessToken,
    }),
    appServer(destructivePort, destructiveDataDir, unthrottled),
    appServer(modelsPort, modelsDataDir, {
      ...unthrottled,
      GEMINI_SIM_MODELS: 'gemini-nano-banana-2.1,gemini-3-pro-image,gemini-3.1-flash-image',
      GEMINI_SIM_RETIRED: 'gemini-3.1-flash-lite-image',
    }),
  ],
});
