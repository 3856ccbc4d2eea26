'use strict';
// SAML SSO enforcement, GET /user/memberships/orgs/{org}, and the per-route
// in-flight counters of /_standin/stats.

const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { startServer, rest, control, loadJson, WORKED } = require('./helpers');

const BOB = 'ghp_bob000000000000000000000000000000000';
const BOB_NO_SSO = 'ghp_bob_not_authorized_for_sso_0000000000';
const ERIN = 'ghp_erin0000000000000000000000000000000000';
const SERVER_TOKEN = loadJson(WORKED).server_token;

/** The worked example with SAML SSO enforced, bob holding one unauthorized
 * token, and frank invited but not yet a member. */
function ssoScenario(samlSso) {
  const scenario = loadJson(WORKED);
  scenario.organization.saml_sso = samlSso;
  const bob = scenario.users.find((u) => u.login === 'bob');
  bob.tokens_without_sso = [BOB_NO_SSO];
  scenario.users.push({ login: 'frank', id: 106, tokens: ['ghp_frank'], org_role: null, membership_state: 'pending' });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'standin-sso-')), 'scenario.json');
  fs.writeFileSync(file, JSON.stringify(scenario));
  return file;
}

describe('SAML SSO and the authenticated user\'s membership', () => {
  let s;
  before(async () => {
    s = await startServer(['--scenario', ssoScenario(true)]);
  });
  after(async () => {
    await s.stop();
  });

  it('GET /user accepts a token that is not authorized for SSO', async () => {
    const r = await rest(s.url, '/user', { token: BOB_NO_SSO });
    assert.equal(r.status, 200);
    assert.equal(r.json.login, 'bob');
  });

  it('organization resources refuse it with 403 and X-GitHub-SSO: required; url=...', async () => {
    for (const p of ['/user/memberships/orgs/acme', '/orgs/acme/members/bob', '/orgs/acme/memberships/bob', '/orgs/acme']) {
      const r = await rest(s.url, p, { token: BOB_NO_SSO });
      assert.equal(r.status, 403, p);
      const sso = r.headers.get('x-github-sso');
      assert.match(sso, /^required; url=http:\/\/127\.0\.0\.1:\d+\/orgs\/acme\/sso\?authorization_request=[A-Za-z0-9_-]{20,}$/, p);
      assert.match(r.json.message, /SAML enforcement/);
    }
    // Each answer names a fresh URL (GitHub's expire after an hour).
    const a = await rest(s.url, '/user/memberships/orgs/acme', { token: BOB_NO_SSO });
    const b = await rest(s.url, '/user/memberships/orgs/acme', { token: BOB_NO_SSO });
    assert.notEqual(a.headers.get('x-github-sso'), b.headers.get('x-github-sso'));
  });

  it('an authorized token of the same user gets the active membership', async () => {
    const r = await rest(s.url, '/user/memberships/orgs/acme', { token: BOB });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-github-sso'), null);
    assert.equal(r.json.state, 'active');
    assert.equal(r.json.role, 'member');
    assert.equal(r.json.user.login, 'bob');
    assert.equal(r.json.organization.login, 'acme');
    assert.match(r.json.url, /\/orgs\/acme\/memberships\/bob$/);
  });

  it('an owner is role admin; the org name is case-insensitive', async () => {
    const r = await rest(s.url, '/user/memberships/orgs/ACME', { token: 'ghp_olivia0000000000000000000000000000000' });
    assert.equal(r.status, 200);
    assert.equal(r.json.role, 'admin');
    assert.equal(r.json.state, 'active');
  });

  it('an invitation not yet accepted is state pending; an outsider gets 404', async () => {
    const pending = await rest(s.url, '/user/memberships/orgs/acme', { token: 'ghp_frank' });
    assert.equal(pending.status, 200);
    assert.equal(pending.json.state, 'pending');
    const outsider = await rest(s.url, '/user/memberships/orgs/acme', { token: ERIN });
    assert.equal(outsider.status, 404);
    const other = await rest(s.url, '/user/memberships/orgs/other-org', { token: BOB });
    assert.equal(other.status, 404);
  });

  it('no token: 401; an unknown token: 401; the server token has no membership', async () => {
    assert.equal((await rest(s.url, '/user/memberships/orgs/acme')).status, 401);
    assert.equal((await rest(s.url, '/user/memberships/orgs/acme', { token: 'ghp_nobody' })).status, 401);
    assert.equal((await rest(s.url, '/user/memberships/orgs/acme', { token: SERVER_TOKEN })).status, 404);
  });
});

describe('without saml_sso the same tokens work everywhere', () => {
  let s;
  before(async () => {
    s = await startServer(['--scenario', ssoScenario(false)]);
  });
  after(async () => {
    await s.stop();
  });

  it('tokens_without_sso are ordinary tokens', async () => {
    const r = await rest(s.url, '/user/memberships/orgs/acme', { token: BOB_NO_SSO });
    assert.equal(r.status, 200);
    assert.equal(r.json.state, 'active');
    assert.equal(r.headers.get('x-github-sso'), null);
  });
});

describe('in-flight counters', () => {
  let s;
  before(async () => {
    s = await startServer(['--scenario', WORKED]);
  });
  after(async () => {
    await s.stop();
  });
  afterEach(async () => {
    await control(s.url, '/faults', { mode: 'none' });
  });

  it('count concurrent requests per route, with the maximum since the last reset', async () => {
    await control(s.url, '/stats/reset', {});
    await control(s.url, '/faults', { mode: 'slow', delay_ms: 600, target: 'user' });
    const calls = Array.from({ length: 5 }, () => rest(s.url, '/user', { token: BOB }));
    await new Promise((r) => setTimeout(r, 300));
    const during = (await control(s.url, '/stats')).json;
    assert.equal(during.in_flight.user, 5);
    assert.equal(during.max_in_flight.user, 5);
    await Promise.all(calls);
    await rest(s.url, '/orgs/acme', { token: SERVER_TOKEN });
    const afterwards = (await control(s.url, '/stats')).json;
    assert.equal(afterwards.in_flight.user, 0);
    assert.equal(afterwards.max_in_flight.user, 5);
    assert.equal(afterwards.max_in_flight.org, 1);
    assert.equal(afterwards.routes.user, 5);
    assert.equal(afterwards.routes.org, 1);
    await control(s.url, '/stats/reset', {});
    const reset = (await control(s.url, '/stats')).json;
    assert.equal(reset.max_in_flight.user, 0);
  });
});
