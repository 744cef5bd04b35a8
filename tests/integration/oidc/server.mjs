// SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
// server.mjs -- oidc-provider (a real OAuth 2.0 / OpenID Connect
// authorization server) over HTTPS for t-token-oidc.sh.
//
//   node server.mjs --cert C --key K --port-file F [--access-ttl S] [--log L]
//
// Clients: demo-client (public: device code, authorization code + PKCE,
// refresh token), conf-client:conf-secret (confidential: client
// credentials, introspection); with --client-cert PEM, jwt-client (client
// credentials authenticated by private_key_jwt, its JWKS the public key of
// that certificate). Refresh tokens rotate. The user part of the
// device flow is done by POST /_control/device/approve?user_code=X, which
// records the approval through the provider's own models (DeviceCode,
// Grant), as its interaction pages would. The authorization code flow's
// interaction (t-login-oidc-browser.sh) goes through minimal pages at
// /interaction/UID: GET shows a login or consent form, POST
// /interaction/UID/login (field "login") signs the user in and POST
// /interaction/UID/confirm grants the requested scopes, both through
// provider.interactionFinished. POST /_control/introspect (form "token")
// answers like RFC 7662 without client authentication, with the account as
// "username", for the test SMTP server (smtpd.py --introspect). Listens on
// 127.0.0.1 only.
import crypto from 'node:crypto';
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
  clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post',
    'private_key_jwt'],
  features: {
    devInteractions: { enabled: false },
    deviceFlow: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
  pkce: { required: () => true },
  rotateRefreshToken: true,
  // oidc-provider drops offline_access from an authorization request
  // without prompt=consent, and oauthmail sends prompt only to Google and
  // Microsoft; a native client with the refresh_token grant gets one anyway.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
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

if (args['client-cert']) {
  const x = new crypto.X509Certificate(fs.readFileSync(args['client-cert']));
  configuration.clients.push({
    client_id: 'jwt-client',
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    jwks: { keys: [x.publicKey.export({ format: 'jwk' })] },
  });
}

const body = (req) => new Promise((resolve, reject) => {
  let b = '';
  req.setEncoding('utf8');
  req.on('data', (c) => { b += c; if (b.length > 65536) req.destroy(); });
  req.on('end', () => resolve(b));
  req.on('error', reject);
});

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
    if (u.pathname === '/_control/introspect' && req.method === 'POST') {
      const form = new URLSearchParams(await body(req));
      const t = await provider.AccessToken.find(form.get('token') || '');
      const info = t ? { active: true, client_id: t.clientId, username: t.accountId,
        scope: t.scope, exp: t.exp } : { active: false };
      count(t ? 'smtp_introspect_active' : 'smtp_introspect_inactive');
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(info));
    }
    const m = u.pathname.match(/^\/interaction\/([\w-]+)(?:\/(login|confirm))?$/);
    if (m) {
      try {
        const details = await provider.interactionDetails(req, res);
        const { uid, prompt, params, session } = details;
        if (req.method === 'GET' && !m[2]) {
          res.writeHead(200, { 'content-type': 'text/html' });
          const form = prompt.name === 'login'
            ? `<form method="post" action="/interaction/${uid}/login"><input name="login" value="${params.login_hint || ''}"><button>Sign in</button></form>`
            : `<form method="post" action="/interaction/${uid}/confirm"><button>Allow ${params.client_id}</button></form>`;
          return res.end(`<!doctype html><title>${prompt.name}</title>${form}\n`);
        }
        if (req.method === 'POST' && m[2] === 'login' && prompt.name === 'login') {
          const login = new URLSearchParams(await body(req)).get('login');
          if (!login) { res.writeHead(400); return res.end('login required\n'); }
          count('interaction_login');
          return await provider.interactionFinished(req, res,
            { login: { accountId: login } }, { mergeWithLastSubmission: false });
        }
        if (req.method === 'POST' && m[2] === 'confirm' && prompt.name === 'consent') {
          let grant = details.grantId ? await provider.Grant.find(details.grantId)
            : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
          const d = prompt.details;
          if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
          if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
          if (d.missingResourceScopes)
            for (const [ind, sc] of Object.entries(d.missingResourceScopes))
              grant.addResourceScope(ind, sc.join(' '));
          const grantId = await grant.save();
          const consent = details.grantId ? {} : { grantId };
          count('interaction_consent');
          return await provider.interactionFinished(req, res, { consent },
            { mergeWithLastSubmission: true });
        }
        res.writeHead(400); return res.end(`unexpected ${req.method} for prompt ${prompt.name}\n`);
      } catch (e) {
        say(`interaction failed: ${e.stack}`);
        res.writeHead(400); return res.end(String(e) + '\n');
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
