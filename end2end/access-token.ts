// The access token of the e2e server that runs with token access control (see
// playwright.config.ts); tests/access.spec.ts signs in with it.
export const accessToken = 'e2e-access-token-0123456789abcdef';
