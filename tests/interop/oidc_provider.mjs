// node-oidc-provider (npm `oidc-provider`) as an external authorization server for the
// interop test (tests/test_interop_oidc_provider.py): one confidential client, the simulator's
// client app, registered with its callback URL.
//
// Usage: node oidc_provider.mjs PORT REDIRECT_URI
// Prints "READY <issuer>" once listening on 127.0.0.1. devInteractions serves the login and
// consent pages (any login and password are accepted); revocation is switched on so the
// client's logout can revoke its refresh token (RFC 7009).

import { createServer } from 'node:http';

console.info = () => {};
console.warn = () => {};

const { default: Provider } = await import('oidc-provider');

const [port, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'sim-client',
      client_secret: 'sim-secret',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid offline_access profile',
    },
  ],
  scopes: ['openid', 'offline_access', 'profile'],
  claims: { openid: ['sub'], profile: ['name'] },
  pkce: { required: () => true },
  cookies: { keys: ['interop-cookie-key-not-secret'] },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, name: `Student ${sub}` }),
  }),
  features: { devInteractions: { enabled: true }, revocation: { enabled: true } },
});
provider.silent = true;
provider.on('server_error', () => {});

const server = createServer(provider.callback());
server.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`READY ${issuer}\n`);
});
const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
