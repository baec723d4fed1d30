// A real OpenID provider for Evenemang's single sign-on tests: the certified oidc-provider
// on loopback, with test accounts (password and claims, groups among them), login and
// consent pages a browser completes, and a few test-only controls under /__test__/ (bearer
// ADMIN_TOKEN): change an account, rotate or retire the signing keys, and alter the next
// ID token the token endpoint hands out (claims, or the key it is signed with).
//
// Started by tests/support/oidc.py:  node provider.mjs CONFIG.json
// CONFIG: {"port": 0, "admin_token": "...", "clients": [...], "accounts": {"id": {...}},
//          "id_token_claims": false}
// Prints one JSON line {"issuer": "http://127.0.0.1:PORT"} on stdout once it listens.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';
import {
  SignJWT, UnsecuredJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair,
  importJWK,
} from 'jose';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = new Map(Object.entries(config.accounts || {}));
let keys = [await newKey()]; // private JWKs; the first signs
let retired = []; // keys taken out of the JWKS, kept to forge with
let tamper = null; // what to do to the next ID token
let provider = null;
// One store for every provider built here, so sessions, grants and codes outlive a rotation.
const adapter = createMemoryAdapter();
let handler = null; // provider.callback() of the current provider

async function newKey() {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `k${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`, alg: 'RS256', use: 'sig' };
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res, title, body, status = 200) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>
<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`);
}

function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

// --- the provider ------------------------------------------------------------------------

function build(issuer) {
  const built = new Provider(issuer, {
    adapter,
    clients: config.clients,
    jwks: { keys },
    cookies: { keys: [config.admin_token] },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      groups: ['groups'],
    },
    conformIdTokenClaims: !config.id_token_claims,
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const account = accounts.get(id);
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...account.claims }) };
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = `<!doctype html><title>Error</title><h1>${escape(out.error)}</h1><p>${escape(out.error_description || '')}</p>`;
    },
  });
  built.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'token' && ctx.status === 200 && ctx.body?.id_token && tamper) {
      const change = tamper;
      tamper = null;
      ctx.body = { ...ctx.body, id_token: await alter(ctx.body.id_token, change) };
    }
  });
  handler = built.callback();
  return built;
}

// Re-sign an ID token the provider issued, with claims changed and a chosen key:
// "current" (a good signature over bad claims), "retired" (a key no longer published),
// "stranger" (a key nobody published, under the current key's kid), "none" (unsigned).
async function alter(idToken, change) {
  const claims = { ...decodeJwt(idToken), ...(change.claims || {}) };
  for (const name of change.drop || []) delete claims[name];
  const header = decodeProtectedHeader(idToken);
  if (change.key === 'none') return new UnsecuredJWT(claims).encode();
  let jwk = keys[0];
  let kid = header.kid;
  if (change.key === 'retired') {
    if (!retired.length) throw new Error('no retired key: rotate and retire first');
    jwk = retired[retired.length - 1];
    kid = jwk.kid;
  } else if (change.key === 'stranger') {
    jwk = await newKey();
  }
  const key = await importJWK(jwk, 'RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: header.typ || 'JWT', kid }).sign(key);
}

// --- login and consent pages ---------------------------------------------------------------

function loginForm(uid, params, error = '') {
  return `<p>Sign in to continue to ${escape(params.client_id)}.</p>
${error ? `<p role="alert" class="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
  <p><label for="login">Username</label> <input id="login" name="login" autocomplete="username" autofocus></p>
  <p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password"></p>
  <p><button type="submit">Sign in</button></p>
</form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>`;
}

function consentForm(uid, params, details) {
  const scopes = (details.missingOIDCScope || []).map((s) => `<li>${escape(s)}</li>`).join('');
  return `<p>${escape(params.client_id)} asks for:</p><ul>${scopes}</ul>
<form method="post" action="/interaction/${uid}/consent"><button type="submit">Allow</button></form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Deny</button></form>`;
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new errors.SessionNotFound('interaction mismatch');
  const { prompt, params, session } = details;
  if (req.method === 'GET') {
    if (prompt.name === 'login') return page(res, 'Sign in', loginForm(uid, params));
    return page(res, 'Allow access', consentForm(uid, params, prompt.details));
  }
  const form = new URLSearchParams(await readBody(req));
  if (action === 'abort') {
    const result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }
  if (action === 'login') {
    const account = accounts.get(form.get('login') || '');
    if (prompt.name !== 'login' || !account || account.password !== form.get('password')) {
      return page(res, 'Sign in', loginForm(uid, params, 'Wrong username or password.'), 401);
    }
    const result = { login: { accountId: form.get('login') } };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }
  if (action === 'consent' && prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    const result = { consent: { grantId: await grant.save() } };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
  }
  return page(res, 'Not found', '', 404);
}

// --- test controls ---------------------------------------------------------------------------

async function control(req, res, path) {
  if (req.headers.authorization !== `Bearer ${config.admin_token}`) return json(res, 401, { error: 'admin token' });
  const body = req.method === 'GET' ? {} : JSON.parse((await readBody(req)) || '{}');
  const issuer = provider.issuer;
  if (path === 'accounts' && req.method === 'PUT') {
    accounts.set(body.id, { password: body.password, claims: body.claims || {} });
  } else if (path === 'rotate') {
    keys = [await newKey(), ...keys]; // the new key signs; the old one is still published
    provider = build(issuer);
  } else if (path === 'retire') {
    retired = [...retired, ...keys.slice(1)];
    keys = keys.slice(0, 1);
    provider = build(issuer);
  } else if (path === 'tamper') {
    tamper = body;
  } else if (path !== 'keys') {
    return json(res, 404, { error: 'unknown control' });
  }
  return json(res, 200, { signing: keys[0].kid, published: keys.map((k) => k.kid), retired: retired.map((k) => k.kid) });
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://localhost');
    const control_ = url.pathname.match(/^\/__test__\/([a-z]+)$/);
    if (control_) return await control(req, res, control_[1]);
    const step = url.pathname.match(/^\/interaction\/([\w-]+)(?:\/(login|consent|abort))?$/);
    if (step) return await interaction(req, res, step[1], step[2]);
    return handler(req, res);
  } catch (err) {
    if (!res.headersSent) page(res, 'Error', `<p>${escape(err.message)}</p>`, err.statusCode || 500);
    else res.end();
  }
});

server.listen(config.port || 0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  provider = build(issuer);
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
