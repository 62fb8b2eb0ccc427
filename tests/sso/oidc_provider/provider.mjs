// A real OpenID Connect provider (node oidc-provider) for the single sign-on tests (tests/sso/oidc.py starts it).
//
// Configuration comes as JSON in PROVIDER_CONFIG: {port, clients: [...], accounts: {login: claims}}.
// devInteractions gives the login form (any login named in accounts, any password) and the consent page.
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
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  conformIdTokenClaims: false, // the scopes' claims go into the ID token itself
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  pkce: { required: () => true },
  ttl: { IdToken: 300, AccessToken: 300, AuthorizationCode: 60 },
});
provider.proxy = false;

async function readJson(ctx) {
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString() || '{}');
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
