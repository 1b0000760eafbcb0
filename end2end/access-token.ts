// Secrets of the e2e servers (see playwright.config.ts), for tests only.
// The access token of the e2e server that runs with token access control (see
// playwright.config.ts); tests/access.spec.ts signs in with it.
export const accessToken = 'e2e-access-token-0123456789abcdef';

// The metrics token of the e2e servers; tests read /metrics with it (how many calls went
// upstream).
export const metricsToken = 'e2e-metrics-token-0123456789abcdef';
