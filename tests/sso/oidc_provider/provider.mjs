// A real OpenID Connect provider (node oidc-provider) for the single sign-on tests (tests/sso/oidc_process.py starts it).
//
// Configuration comes as JSON in PROVIDER_CONFIG: {port, clients: [...], accounts: {login: claims}}.
// Its interactions are this script's (oidc-provider's interaction API): a login form taking any login named in
// accounts and any password, with a "second factor" box that makes the login's amr ["pwd", "mfa"] and its acr
// "urn:portcullis:test:mfa" (else ["pwd"], "urn:portcullis:test:pwd"); consent is granted without a page.
// Test-only control endpoints, under /__test__/ (never part of a real provider):
//   POST /__test__/accounts  {login: claims}   replace the accounts (e.g. change someone's groups)
//   POST /__test__/fault     {"fault": name}   how the next token response's ID token is spoiled:
//     "tamper" (a claim changed, signature kept), "audience", "nonce", "expired" (re-signed with the provider's
//     own key, so only that one check fails), "" (none). A fault applies to one token response, then clears.
import * as jose from 'jose';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.PROVIDER_CONFIG);
const issuer = `http://127.0.0.1:${config.port}`;
let accounts = config.accounts;
let fault = '';

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: [signingJwk] },
  findAccount: async (ctx, id) => (accounts[id]
    ? { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) }
    : undefined),
  claims: {
    openid: ['sub', 'acr', 'amr', 'auth_time'], // how the login was made, in every ID token
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  acrValues: ['urn:portcullis:test:pwd', 'urn:portcullis:test:mfa'],
  conformIdTokenClaims: false, // the scopes' claims go into the ID token itself
  features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  ttl: { IdToken: 300, AccessToken: 300, AuthorizationCode: 60 },
});
provider.proxy = false;

async function readBody(ctx) {
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

async function readJson(ctx) {
  return JSON.parse((await readBody(ctx)) || '{}');
}

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, clientId) {
  return `<!doctype html><html><head><title>Test provider: sign in</title></head><body>
<h1>Sign in to ${escape(clientId)}</h1>
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Login <input name="login" autofocus></label>
<label>Password <input name="password" type="password"></label>
<label><input type="checkbox" name="mfa" value="1"> Second factor used</label>
<button type="submit">Sign in</button>
</form></body></html>`;
}

async function grantConsent(interaction) {
  const { prompt: { details }, params, session: { accountId } } = interaction;
  const grant = interaction.grantId
    ? await provider.Grant.find(interaction.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  if (details.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  return { consent: { grantId: await grant.save() } };
}

async function finish(ctx, result) {
  const target = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(target);
}

async function interaction(ctx) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'POST' && ctx.path.endsWith('/login')) {
    const form = new URLSearchParams(await readBody(ctx));
    const login = form.get('login') || '';
    if (!accounts[login]) {
      ctx.status = 400;
      ctx.body = loginPage(details.uid, details.params.client_id);
      return;
    }
    const mfa = form.get('mfa') === '1';
    await finish(ctx, {
      login: {
        accountId: login,
        amr: mfa ? ['pwd', 'mfa'] : ['pwd'],
        acr: mfa ? 'urn:portcullis:test:mfa' : 'urn:portcullis:test:pwd',
      },
    });
    return;
  }
  if (details.prompt.name === 'consent') {
    await finish(ctx, await grantConsent(details));
    return;
  }
  ctx.type = 'html';
  ctx.body = loginPage(details.uid, details.params.client_id);
}

async function spoil(idToken) {
  const claims = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  if (fault === 'tamper') {
    const [header, , signature] = idToken.split('.');
    const payload = Buffer.from(JSON.stringify({ ...claims, groups: ['portal-admins'] })).toString('base64url');
    return `${header}.${payload}.${signature}`;
  }
  const changed = { ...claims };
  if (fault === 'audience') changed.aud = 'another-application';
  if (fault === 'nonce') changed.nonce = 'not-the-nonce-of-this-login';
  if (fault === 'expired') Object.assign(changed, { iat: now - 3600, exp: now - 1800 });
  return new jose.SignJWT(changed).setProtectedHeader({ alg: 'RS256', kid: signingJwk.kid }).sign(privateKey);
}

provider.use(async (ctx, next) => {
  if (ctx.path.startsWith('/interaction/')) {
    await interaction(ctx);
    return;
  }
  if (ctx.path === '/__test__/accounts' && ctx.method === 'POST') {
    accounts = await readJson(ctx);
    ctx.body = { ok: true };
    return;
  }
  if (ctx.path === '/__test__/fault' && ctx.method === 'POST') {
    fault = (await readJson(ctx)).fault || '';
    ctx.body = { ok: true };
    return;
  }
  await next();
  if (ctx.path === '/token' && fault && ctx.body && ctx.body.id_token) {
    ctx.body = { ...ctx.body, id_token: await spoil(ctx.body.id_token) };
    fault = '';
  }
});

provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
