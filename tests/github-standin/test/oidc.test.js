'use strict';
// GitHub Actions' OIDC issuer (lib/oidc.js): discovery, JWKS, ID tokens with
// GitHub's claims, forgeries, and the runtime's request endpoint.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, WORKED } = require('./helpers');

function decode(jwt) {
  const [h, p, sig] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url')),
    claims: JSON.parse(Buffer.from(p, 'base64url')),
    input: `${h}.${p}`,
    signature: Buffer.from(sig, 'base64url'),
  };
}

async function getJson(url, headers) {
  const r = await fetch(url, { headers });
  return { status: r.status, body: await r.json() };
}

describe('OIDC issuer', () => {
  let s;
  let jwks;
  before(async () => {
    s = await startServer(['--scenario', WORKED]);
    jwks = (await getJson(`${s.url}/oidc/.well-known/jwks`)).body;
  });
  after(() => s.stop());

  const verifies = (jwt) => {
    const t = decode(jwt);
    const jwk = jwks.keys.find((k) => k.kid === t.header.kid);
    if (!jwk) return false;
    const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
    return crypto.verify('sha256', Buffer.from(t.input), key, t.signature);
  };

  it('serves a discovery document naming itself and its JWKS', async () => {
    const { status, body } = await getJson(`${s.url}/oidc/.well-known/openid-configuration`);
    assert.equal(status, 200);
    assert.equal(body.issuer, `${s.url}/oidc`);
    assert.equal(body.jwks_uri, `${s.url}/oidc/.well-known/jwks`);
    assert.deepEqual(body.id_token_signing_alg_values_supported, ['RS256']);
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0].kty, 'RSA');
  });

  it('issues tokens with GitHub claims from the scenario', async () => {
    const { status, body } = await getJson(`${s.url}/_standin/oidc/token?audience=idx&repository=acme/core-lib`);
    assert.equal(status, 200);
    assert.ok(verifies(body.value));
    const { header, claims } = decode(body.value);
    assert.equal(header.alg, 'RS256');
    assert.equal(claims.iss, `${s.url}/oidc`);
    assert.equal(claims.aud, 'idx');
    assert.equal(claims.repository, 'acme/core-lib');
    assert.equal(claims.repository_id, '301');
    assert.equal(claims.repository_owner_id, '9000');
    assert.equal(claims.ref, 'refs/heads/main');
    assert.equal(claims.ref_type, 'branch');
    assert.equal(claims.sub, 'repo:acme/core-lib:ref:refs/heads/main');
    assert.equal(claims.job_workflow_ref, 'acme/core-lib/.github/workflows/release.yml@refs/heads/main');
    assert.equal(claims.exp - claims.iat, 300);
    assert.equal(typeof claims.run_id, 'string');
  });

  it('applies overrides, forges and expires on request', async () => {
    const q = 'audience=idx&repository=acme/core-lib&ref=refs/tags/v1&environment=pypi&workflow=ci.yml&event_name=release&actor=bob&repository_id=77';
    const t = decode((await getJson(`${s.url}/_standin/oidc/token?${q}`)).body.value).claims;
    assert.equal(t.ref_type, 'tag');
    assert.equal(t.environment, 'pypi');
    assert.equal(t.sub, 'repo:acme/core-lib:environment:pypi');
    assert.equal(t.job_workflow_ref, 'acme/core-lib/.github/workflows/ci.yml@refs/tags/v1');
    assert.equal(t.actor, 'bob');
    assert.equal(t.actor_id, '102');
    assert.equal(t.repository_id, '77');
    const forged = (await getJson(`${s.url}/_standin/oidc/token?audience=idx&repository=acme/core-lib&forge=1`)).body.value;
    assert.equal(verifies(forged), false);
    const expired = decode((await getJson(`${s.url}/_standin/oidc/token?audience=idx&repository=acme/core-lib&expires_in=-60`)).body.value).claims;
    assert.ok(expired.exp < Date.now() / 1000);
    const other = decode((await getJson(`${s.url}/_standin/oidc/token?repository=octo/x`)).body.value).claims;
    assert.notEqual(other.repository_owner_id, '9000');
    assert.equal(other.aud, 'https://github.com/octo');
    assert.equal((await getJson(`${s.url}/_standin/oidc/token?repository=acme/nope`)).status, 404);
  });

  it('answers the runtime request endpoint with the job bearer token only', async () => {
    const r = await fetch(`${s.url}/_standin/oidc/job`, { method: 'POST', body: JSON.stringify({ repository: 'acme/tools' }) });
    const job = await r.json();
    assert.match(job.url, /\?job=[0-9a-f]+&api-version=2\.0$/);
    const ok = await getJson(`${job.url}&audience=idx`, { authorization: `bearer ${job.token}` });
    assert.equal(ok.status, 200);
    assert.equal(decode(ok.body.value).claims.repository, 'acme/tools');
    assert.equal(decode(ok.body.value).claims.aud, 'idx');
    assert.equal((await getJson(`${job.url}&audience=idx`)).status, 401);
    assert.equal((await getJson(`${job.url}&audience=idx`, { authorization: 'Bearer wrong' })).status, 401);
  });
});
