// Peer benchmark server: panva/node-oidc-provider with one confidential client.
//
// Usage: node server.mjs [port]   (or PORT=... node server.mjs)
// Prints "READY <base_url>" on stdout once listening on 127.0.0.1. All library
// notices/warnings (devInteractions, dev keys, ...) are silenced so they cost nothing.
//
// Refresh tokens: the default `issueRefreshToken` issues one when the client may use the
// refresh_token grant and `offline_access` was granted; the provider only keeps
// `offline_access` in the request when `prompt=consent` is given, so the driver sends
// `scope=openid offline_access&prompt=consent`. PKCE is forced for this confidential
// client via `pkce.required` (v9 only requires it for public clients by default).

import { createServer } from 'node:http';

console.info = () => {};
console.warn = () => {};

const { default: Provider } = await import('oidc-provider');

const port = Number(process.argv[2] ?? process.env.PORT ?? 3000);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'bench-client',
      client_secret: 'bench-secret',
      redirect_uris: ['http://127.0.0.1:1/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid offline_access',
    },
  ],
  scopes: ['openid', 'offline_access'],
  pkce: { required: () => true },
  cookies: { keys: ['bench-cookie-key-not-secret'] },
  // Same as the library default, minus its "you MUST change this" console warning.
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  features: { devInteractions: { enabled: true } },
});

// In v9 the Provider instance is the Koa app itself. Silence koa's default error logger;
// errors still reach the client as HTTP responses.
provider.silent = true;
provider.on('server_error', () => {});

const server = createServer(provider.callback());
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`READY ${issuer}\n`);
});

const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
