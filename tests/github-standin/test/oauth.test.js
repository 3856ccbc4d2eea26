'use strict';
// The OAuth web flow (lib/oauth.js): authorize, code exchange, PKCE, single use.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer, WORKED } = require('./helpers');

const CLIENT = { client_id: 'Iv1.test', client_secret: 'secret-1', callback_url: 'http://app.example/login/callback' };

async function control(s, body) {
  const r = await fetch(`${s.url}/_standin/oauth`, { method: 'POST', body: JSON.stringify(body) });
  return r.json();
}

async function authorize(s, params) {
  const r = await fetch(`${s.url}/login/oauth/authorize?${new URLSearchParams(params)}`, { redirect: 'manual' });
  return { status: r.status, location: r.headers.get('location') ? new URL(r.headers.get('location')) : null };
}

async function exchange(s, params) {
  const r = await fetch(`${s.url}/login/oauth/access_token`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return r.json();
}

describe('OAuth web flow', () => {
  let s;
  before(async () => {
    s = await startServer(['--scenario', WORKED]);
    await control(s, { ...CLIENT, login: 'bob', kind: 'github_app' });
  });
  after(() => s.stop());

  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');

  async function code(extra = {}) {
    const a = await authorize(s, { client_id: CLIENT.client_id, redirect_uri: CLIENT.callback_url, state: 'st', ...extra });
    assert.equal(a.status, 302);
    assert.equal(a.location.searchParams.get('state'), 'st');
    return a.location.searchParams.get('code');
  }

  it('issues a token for the configured user that GET /user accepts, once', async () => {
    const c = await code({ code_challenge: challenge, code_challenge_method: 'S256' });
    const base = { client_id: CLIENT.client_id, client_secret: CLIENT.client_secret, code: c, redirect_uri: CLIENT.callback_url };
    assert.equal((await exchange(s, { ...base, code_verifier: 'x'.repeat(43) })).error, 'bad_verification_code');
    const ok = await exchange(s, { ...base, code_verifier: verifier });
    assert.match(ok.access_token, /^ghu_/);
    assert.equal(ok.token_type, 'bearer');
    const user = await fetch(`${s.url}/user`, { headers: { authorization: `Bearer ${ok.access_token}`, 'user-agent': 't' } });
    assert.equal((await user.json()).login, 'bob');
    assert.equal((await exchange(s, { ...base, code_verifier: verifier })).error, 'bad_verification_code', 'single use');
  });

  it('requires the verifier when a challenge was sent, and S256 only', async () => {
    const c = await code({ code_challenge: challenge, code_challenge_method: 'S256' });
    const r = await exchange(s, { client_id: CLIENT.client_id, client_secret: CLIENT.client_secret, code: c });
    assert.equal(r.error, 'bad_verification_code');
    const plain = await authorize(s, { client_id: CLIENT.client_id, redirect_uri: CLIENT.callback_url, code_challenge: challenge, code_challenge_method: 'plain' });
    assert.equal(plain.location.searchParams.get('error'), 'invalid_request');
  });

  it('refuses wrong client credentials, another redirect_uri and unknown clients', async () => {
    const c = await code();
    assert.equal((await exchange(s, { client_id: CLIENT.client_id, client_secret: 'wrong', code: c })).error, 'incorrect_client_credentials');
    const elsewhere = await authorize(s, { client_id: CLIENT.client_id, redirect_uri: 'http://evil.example/cb', state: 'st' });
    assert.equal(elsewhere.location.origin, 'http://app.example');
    assert.equal(elsewhere.location.searchParams.get('error'), 'redirect_uri_mismatch');
    assert.equal((await authorize(s, { client_id: 'nobody' })).status, 404);
  });

  it('sends access_denied when the user cancels', async () => {
    await control(s, { ...CLIENT, login: null });
    const a = await authorize(s, { client_id: CLIENT.client_id, redirect_uri: CLIENT.callback_url, state: 'st' });
    assert.equal(a.location.searchParams.get('error'), 'access_denied');
    assert.equal(a.location.searchParams.get('state'), 'st');
  });
});
