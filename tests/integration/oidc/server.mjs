// server.mjs -- oidc-provider (a real OAuth 2.0 / OpenID Connect
// authorization server) over HTTPS for t-token-oidc.sh.
//
//   node server.mjs --cert C --key K --port-file F [--access-ttl S] [--log L]
//
// Clients: demo-client (public: device code, authorization code + PKCE,
// refresh token), conf-client:conf-secret (confidential: client
// credentials, introspection). Refresh tokens rotate. The user part of the
// device flow is done by POST /_control/device/approve?user_code=X, which
// records the approval through the provider's own models (DeviceCode,
// Grant), as its interaction pages would. Listens on 127.0.0.1 only.
import fs from 'node:fs';
import https from 'node:https';
import Provider from 'oidc-provider';

const args = {};
for (let i = 2; i < process.argv.length; i += 2)
  args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const accessTtl = Number(args['access-ttl'] || 3600);
const log = args.log ? fs.createWriteStream(args.log, { flags: 'a' }) : process.stderr;
const say = (s) => log.write(`${new Date().toISOString()} ${s}\n`);
const counts = {};
const count = (k) => { counts[k] = (counts[k] || 0) + 1; };

const key = fs.readFileSync(args.key);
const cert = fs.readFileSync(args.cert);

// Placeholder issuer; the real port is known after listen().
let issuer = 'https://127.0.0.1';
const configuration = {
  clients: [
    {
      client_id: 'demo-client',
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/'],
    },
    {
      client_id: 'conf-client',
      client_secret: 'conf-secret',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
  ],
  scopes: ['openid', 'offline_access', 'smtp'],
  features: {
    devInteractions: { enabled: false },
    deviceFlow: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
  pkce: { required: () => true },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: accessTtl,
    IdToken: 3600,
    ClientCredentials: accessTtl,
    DeviceCode: 600,
    RefreshToken: 86400,
    Grant: 86400,
    Session: 86400,
    Interaction: 600,
  },
  findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
};

const server = https.createServer({ key, cert });
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  issuer = `https://127.0.0.1:${port}`;
  const provider = new Provider(issuer, configuration);
  provider.proxy = false;
  for (const ev of ['grant.success', 'grant.error', 'refresh_token.consumed',
    'grant.revoked', 'introspection.error', 'revocation.error'])
    provider.on(ev, (ctx, e) => { count(ev.replace(/\./g, '_')); say(`${ev}${e && e.message ? ': ' + e.message : ''}`); });
  const cb = provider.callback();
  server.on('request', async (req, res) => {
    const u = new URL(req.url, issuer);
    say(`${req.method} ${u.pathname}`);
    if (u.pathname === '/token' && req.method === 'POST') count('token_requests');
    if (u.pathname === '/_control/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ counts }));
    }
    if (u.pathname === '/_control/device/approve' && req.method === 'POST') {
      try {
        // Stored normalised, as the verification page does it.
        const uc = (u.searchParams.get('user_code') || '').toUpperCase().replace(/\W/g, '');
        const code = await provider.DeviceCode.findByUserCode(uc, { ignoreExpiration: false });
        if (!code) { res.writeHead(404); return res.end('no such user code\n'); }
        const user = u.searchParams.get('user') || 'alice@example.test';
        const grant = new provider.Grant({ accountId: user, clientId: code.clientId });
        const scope = code.scope || (code.params && code.params.scope) || 'openid offline_access';
        grant.addOIDCScope(scope);
        code.scope = scope;
        code.grantId = await grant.save();
        code.accountId = user;
        code.authTime = Math.floor(Date.now() / 1000);
        await code.save();
        count('device_approved');
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ ok: true }));
      } catch (e) {
        say(`approve failed: ${e.stack}`);
        res.writeHead(500); return res.end(String(e) + '\n');
      }
    }
    return cb(req, res);
  });
  if (args['parent-pid']) {
    setInterval(() => {
      try { process.kill(Number(args['parent-pid']), 0); } catch { process.exit(0); }
    }, 1000).unref();
  }
  const tmp = `${args['port-file']}.tmp`;
  fs.writeFileSync(tmp, `${port}\n`);
  fs.renameSync(tmp, args['port-file']);
  say(`listening on ${issuer}`);
});
process.on('SIGTERM', () => process.exit(0));
