'use strict';
// Tests of the GitHub stand-in: `npm test` (node --test test/).

const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const {
  startServer,
  dumpScenario,
  gql,
  rest,
  control,
  paginate,
  loadJson,
  QUERIES,
  WORKED,
  EDGE,
} = require('./helpers');
const { analyze } = require('../lib/cost');
const { sign } = require('../lib/webhooks');
const { parse, getOperationAST } = require('graphql');
const { loadSchema } = require('../lib/schema');

const worked = loadJson(WORKED);
const SERVER_TOKEN = worked.server_token;
const BOB = worked.users.find((u) => u.login === 'bob');
const ERIN = worked.users.find((u) => u.login === 'erin');

function gitBlobSha(text) {
  const buf = Buffer.from(text);
  return crypto.createHash('sha1').update(`blob ${buf.length}\0`).update(buf).digest('hex');
}

// ------------------------------------------------------------------ cost rule

describe('cost rule (lib/cost.js)', () => {
  const schema = loadSchema();
  const cost = (q, vars = {}) => {
    const doc = parse(q);
    return analyze(schema, doc, getOperationAST(doc, null), vars);
  };

  it('a single top-level connection costs the minimum of 1 point', () => {
    const a = cost(QUERIES.OrgMembers, { org: 'x' });
    assert.deepEqual(a.errors, []);
    assert.equal(a.requests, 1);
    assert.equal(a.cost, 1);
    assert.equal(a.nodeCount, 100);
  });

  it('teams(100) with members(100) and repositories(100) inside: (1 + 100 + 100) / 100 = 2', () => {
    const a = cost(QUERIES.OrgTeams, { org: 'x' });
    assert.equal(a.requests, 201);
    assert.equal(a.cost, 2);
    assert.equal(a.nodeCount, 100 + 100 * 100 + 100 * 100);
  });

  it('repositories(100) with collaborators(100): (1 + 100) / 100 rounds to 1; object() is free', () => {
    const a = cost(QUERIES.OrgRepos, { org: 'x' });
    assert.equal(a.requests, 101);
    assert.equal(a.cost, 1);
  });

  it('three nested levels multiply; first given through variables is resolved', () => {
    const q = `query($a: Int!, $b: Int!) { organization(login: "x") { repositories(first: $a) { nodes {
      issues(first: $b) { nodes { comments(first: 10) { totalCount } } } } } } }`;
    const a = cost(q, { a: 100, b: 50 });
    assert.deepEqual(a.errors, []);
    assert.equal(a.requests, 1 + 100 + 100 * 50);
    assert.equal(a.cost, Math.round(5101 / 100));
    assert.equal(a.nodeCount, 100 + 100 * 50 + 100 * 50 * 10);
  });

  it('fragments are counted where they are spread', () => {
    const q = `query { organization(login: "x") { teams(first: 100) { nodes { ...T } } } }
      fragment T on Team { members(first: 100) { totalCount } childTeams(first: 10) { totalCount } }`;
    const a = cost(q);
    assert.equal(a.requests, 1 + 100 + 100);
    assert.equal(a.cost, 2);
  });

  it('more than 500,000 nodes is rejected', () => {
    const q = `{ organization(login: "x") { repositories(first: 100) { nodes { issues(first: 100) { nodes {
      comments(first: 100) { totalCount } } } } } } }`;
    const a = cost(q);
    assert.equal(a.errors.length, 1);
    assert.equal(a.errors[0].type, 'MAX_NODE_LIMIT_EXCEEDED');
    assert.match(a.errors[0].message, /exceeds the maximum limit of 500,000/);
  });
});

// ------------------------------------------------------------------ worked example

describe('stand-in serving the worked example', () => {
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

  it('prints exactly one "listening on" line with the real port', () => {
    assert.equal(s.firstLine, `listening on http://127.0.0.1:${s.port}`);
    assert.ok(s.port > 0);
  });

  it('OrgMembers: every member with its role, cost 1, rate-limit headers', async () => {
    const r = await gql(s.url, SERVER_TOKEN, QUERIES.OrgMembers, { org: 'acme' });
    assert.equal(r.status, 200);
    assert.equal(r.body.errors, undefined);
    const d = r.body.data;
    assert.equal(d.rateLimit.cost, 1);
    assert.match(d.rateLimit.resetAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const edges = d.organization.membersWithRole.edges;
    assert.deepEqual(
      edges.map((e) => [e.node.login, e.role, e.node.databaseId]),
      [
        ['olivia', 'ADMIN', 101],
        ['bob', 'MEMBER', 102],
        ['carol', 'MEMBER', 103],
        ['dave', 'MEMBER', 104],
      ],
    );
    assert.equal(d.organization.membersWithRole.pageInfo.hasNextPage, false);
    assert.equal(r.headers.get('x-ratelimit-resource'), 'graphql');
    assert.equal(r.headers.get('x-ratelimit-limit'), '5000');
    assert.equal(Number(r.headers.get('x-ratelimit-remaining')), d.rateLimit.remaining);
    assert.ok(Number(r.headers.get('x-ratelimit-reset')) > Date.now() / 1000);
  });

  it('OrgTeams: teams, parent, immediate members, grants; cost 2', async () => {
    const r = await gql(s.url, SERVER_TOKEN, QUERIES.OrgTeams, { org: 'acme' });
    assert.equal(r.body.errors, undefined);
    assert.equal(r.body.data.rateLimit.cost, 2);
    const teams = r.body.data.organization.teams.nodes;
    assert.deepEqual(
      teams.map((t) => ({
        slug: t.slug,
        id: t.databaseId,
        parent: t.parentTeam && t.parentTeam.slug,
        members: t.members.edges.map((e) => `${e.node.login}:${e.role}`),
        repos: t.repositories.edges.map((e) => `${e.node.name}:${e.permission}`),
      })),
      [
        { slug: 'platform', id: 201, parent: null, members: ['bob:MAINTAINER'], repos: ['core-lib:WRITE'] },
        { slug: 'platform-infra', id: 202, parent: 'platform', members: ['carol:MEMBER'], repos: ['old-client:MAINTAIN'] },
      ],
    );
  });

  it('OrgRepos: name order, flags, pyproject blobs with git oids, direct collaborators; cost 1', async () => {
    const r = await gql(s.url, SERVER_TOKEN, QUERIES.OrgRepos, { org: 'acme' });
    assert.equal(r.body.errors, undefined);
    assert.equal(r.body.data.rateLimit.cost, 1);
    const repos = r.body.data.organization.repositories.nodes;
    assert.deepEqual(
      repos.map((x) => x.name),
      ['core-lib', 'docs', 'old-client', 'tools'],
    );
    const byName = Object.fromEntries(repos.map((x) => [x.name, x]));
    const src = Object.fromEntries(worked.repositories.map((x) => [x.name, x]));
    for (const name of ['core-lib', 'tools', 'old-client']) {
      const text = src[name].files['pyproject.toml'];
      assert.deepEqual(byName[name].pyproject, { oid: gitBlobSha(text), isBinary: false, isTruncated: false, text });
    }
    assert.equal(byName.docs.pyproject, null);
    assert.equal(byName['old-client'].isArchived, true);
    assert.equal(byName['core-lib'].databaseId, 301);
    assert.deepEqual(
      byName.tools.collaborators.edges.map((e) => [e.node.login, e.permission]),
      [
        ['dave', 'TRIAGE'],
        ['erin', 'WRITE'],
      ],
    );
  });

  it('object() accepts the default branch name and answers null for a missing file', async () => {
    const q = `{ a: repository(owner: "acme", name: "old-client") { o: object(expression: "master:pyproject.toml") { ... on Blob { text } }
                 x: object(expression: "main:pyproject.toml") { id } m: object(expression: "HEAD:setup.py") { id }
                 defaultBranchRef { name } } }`;
    const r = await gql(s.url, SERVER_TOKEN, q);
    assert.equal(r.body.errors, undefined);
    assert.equal(r.body.data.a.o.text, '[project]\nname = "acme-client"\n');
    assert.equal(r.body.data.a.x, null);
    assert.equal(r.body.data.a.m, null);
    assert.equal(r.body.data.a.defaultBranchRef.name, 'master');
  });

  it('affiliation ALL gives everybody with access and the highest permission; OUTSIDE the non-members', async () => {
    const q = `{ repository(owner: "acme", name: "core-lib") {
        all: collaborators(first: 100, affiliation: ALL) { edges { permission node { login } } }
        out: collaborators(first: 100, affiliation: OUTSIDE) { totalCount } }
      tools: repository(owner: "acme", name: "tools") { collaborators(first: 100, affiliation: OUTSIDE) { edges { node { login } } } } }`;
    const r = await gql(s.url, SERVER_TOKEN, q);
    assert.equal(r.body.errors, undefined);
    assert.deepEqual(
      r.body.data.repository.all.edges.map((e) => [e.node.login, e.permission]),
      [
        ['olivia', 'ADMIN'],
        ['bob', 'WRITE'],
        ['carol', 'WRITE'],
        ['dave', 'READ'],
      ],
    );
    assert.equal(r.body.data.repository.out.totalCount, 0);
    assert.deepEqual(r.body.data.tools.collaborators.edges.map((e) => e.node.login), ['erin']);
  });

  it('team members membership ALL / CHILD_TEAM include descendant teams', async () => {
    const q = `{ organization(login: "acme") { team(slug: "platform") {
      all: members(first: 10, membership: ALL) { edges { node { login } } }
      child: members(first: 10, membership: CHILD_TEAM) { edges { node { login } } }
      childTeams(first: 10) { nodes { slug } } } } }`;
    const r = await gql(s.url, SERVER_TOKEN, q);
    const t = r.body.data.organization.team;
    assert.deepEqual(t.all.edges.map((e) => e.node.login), ['bob', 'carol']);
    assert.deepEqual(t.child.edges.map((e) => e.node.login), ['carol']);
    assert.deepEqual(t.childTeams.nodes.map((x) => x.slug), ['platform-infra']);
  });

  it('rejects a connection without first/last and one with first: 101 (also via variables)', async () => {
    let r = await gql(s.url, SERVER_TOKEN, '{ organization(login: "acme") { teams { totalCount } } }');
    assert.equal(r.status, 200);
    assert.equal(r.body.data, undefined);
    assert.equal(r.body.errors[0].type, 'MISSING_PAGINATION_BOUNDARIES');
    assert.equal(
      r.body.errors[0].message,
      'You must provide a `first` or `last` value to properly paginate the `teams` connection.',
    );
    r = await gql(s.url, SERVER_TOKEN, '{ organization(login: "acme") { membersWithRole(first: 101) { totalCount } } }');
    assert.equal(r.body.errors[0].type, 'EXCESSIVE_PAGINATION');
    assert.equal(
      r.body.errors[0].message,
      'Requesting 101 records on the `membersWithRole` connection exceeds the `first` limit of 100 records.',
    );
    r = await gql(
      s.url,
      SERVER_TOKEN,
      'query($n: Int) { organization(login: "acme") { repositories(first: 10) { nodes { collaborators(first: $n) { totalCount } } } } }',
      { n: 101 },
    );
    assert.equal(r.body.errors[0].type, 'EXCESSIVE_PAGINATION');
    assert.deepEqual(r.body.errors[0].path, ['organization', 'repositories', 'nodes', 'collaborators']);
  });

  it('validates against the schema: unknown fields and arguments in GitHub\'s words', async () => {
    const r = await gql(s.url, SERVER_TOKEN, '{ organization(login: "acme") { nope teams(first: 1, bogus: 1) { totalCount } } }');
    assert.equal(r.status, 200);
    assert.equal(r.body.data, undefined);
    assert.equal(r.body.errors[0].message, "Field 'nope' doesn't exist on type 'Organization'");
    assert.equal(r.body.errors[0].extensions.code, 'undefinedField');
    assert.deepEqual(r.body.errors[0].path, ['query', 'organization', 'nope']);
    assert.ok(r.body.errors[0].locations[0].line >= 1);
    assert.equal(r.body.errors[1].message, "Field 'teams' doesn't accept argument 'bogus'");
  });

  it('unknown organization: null with NOT_FOUND', async () => {
    const r = await gql(s.url, SERVER_TOKEN, '{ organization(login: "other") { login } }');
    assert.deepEqual(r.body.data, { organization: null });
    assert.equal(r.body.errors[0].type, 'NOT_FOUND');
    assert.deepEqual(r.body.errors[0].path, ['organization']);
  });

  it('GraphQL authentication: none -> 401, unknown token -> 401 Bad credentials, "token" scheme works', async () => {
    let r = await gql(s.url, null, '{ rateLimit { cost } }');
    assert.equal(r.status, 401);
    assert.match(r.body.message, /requires you to be authenticated/);
    r = await gql(s.url, 'ghp_wrong', '{ rateLimit { cost } }');
    assert.equal(r.status, 401);
    assert.equal(r.body.message, 'Bad credentials');
    r = await gql(s.url, SERVER_TOKEN, '{ rateLimit { cost } }', {}, { scheme: 'token' });
    assert.equal(r.status, 200);
    assert.equal(r.body.data.rateLimit.cost, 1);
  });

  it('requests without a User-Agent are refused with 403', async () => {
    const r = await new Promise((resolve, reject) => {
      const req = http.request(`${s.url}/user`, { headers: { authorization: `token ${BOB.tokens[0]}` } }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve({ status: res.statusCode, body: b }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(r.status, 403);
    assert.match(r.body, /User-Agent/);
  });

  it('GET /user: 200 with login/id and token expiration for a user token; 401 otherwise', async () => {
    for (const token of BOB.tokens) {
      const r = await rest(s.url, '/user', { token });
      assert.equal(r.status, 200);
      assert.equal(r.json.login, 'bob');
      assert.equal(r.json.id, 102);
      assert.equal(r.json.type, 'User');
      assert.equal(r.json.site_admin, false);
      assert.equal(r.headers.get('github-authentication-token-expiration'), '2027-10-12 09:00:00 UTC');
      assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.match(r.headers.get('x-github-media-type'), /^github\.v3/);
      assert.equal(r.headers.get('x-ratelimit-resource'), 'core');
      assert.match(r.headers.get('etag'), /^W\/"[0-9a-f]{64}"$/);
    }
    let r = await rest(s.url, '/user', { token: 'ghp_nope' });
    assert.equal(r.status, 401);
    assert.equal(r.json.message, 'Bad credentials');
    assert.equal(r.json.documentation_url, 'https://docs.github.com/rest');
    r = await rest(s.url, '/user');
    assert.equal(r.status, 401);
    r = await rest(s.url, '/user', { token: ERIN.tokens[0] });
    assert.equal(r.json.login, 'erin');
    r = await rest(s.url, '/user', { token: SERVER_TOKEN });
    assert.equal(r.json.login, 'server-bot');
  });

  it('GET /orgs/{org}: base permission only with admin:org; 404 for other orgs', async () => {
    let r = await rest(s.url, '/orgs/acme', { token: SERVER_TOKEN });
    assert.equal(r.status, 200);
    assert.equal(r.json.login, 'acme');
    assert.equal(r.json.id, 9000);
    assert.equal(r.json.type, 'Organization');
    assert.equal(r.json.default_repository_permission, 'read');
    r = await rest(s.url, '/orgs/acme', { token: BOB.tokens[0] }); // no admin:org
    assert.equal(r.status, 200);
    assert.equal('default_repository_permission' in r.json, false);
    r = await rest(s.url, '/orgs/other', { token: SERVER_TOKEN });
    assert.equal(r.status, 404);
    assert.equal(r.json.message, 'Not Found');
  });

  it('ETag / If-None-Match gives 304 that is not charged', async () => {
    const first = await rest(s.url, '/orgs/acme', { token: SERVER_TOKEN });
    const etag = first.headers.get('etag');
    const used = Number(first.headers.get('x-ratelimit-used'));
    const before = (await control(s.url, '/stats')).json.not_modified;
    const r = await rest(s.url, '/orgs/acme', { token: SERVER_TOKEN, headers: { 'if-none-match': etag } });
    assert.equal(r.status, 304);
    assert.equal(r.text, '');
    assert.equal(Number(r.headers.get('x-ratelimit-used')), used);
    assert.equal((await control(s.url, '/stats')).json.not_modified, before + 1);
    const again = await rest(s.url, '/orgs/acme', { token: SERVER_TOKEN, headers: { 'if-none-match': 'W/"other"' } });
    assert.equal(again.status, 200);
    assert.equal(Number(again.headers.get('x-ratelimit-used')), used + 1);
  });

  it('org membership endpoints', async () => {
    assert.equal((await rest(s.url, '/orgs/acme/members/bob', { token: SERVER_TOKEN })).status, 204);
    assert.equal((await rest(s.url, '/orgs/acme/members/erin', { token: SERVER_TOKEN })).status, 404);
    const m = await rest(s.url, '/orgs/acme/memberships/olivia', { token: SERVER_TOKEN });
    assert.equal(m.json.role, 'admin');
    assert.equal(m.json.state, 'active');
  });

  it('stats count requests, points and operations; reset clears them', async () => {
    await control(s.url, '/stats/reset', {});
    await gql(s.url, SERVER_TOKEN, QUERIES.OrgTeams, { org: 'acme' });
    await gql(s.url, SERVER_TOKEN, QUERIES.OrgMembers, { org: 'acme' });
    await rest(s.url, '/user', { token: BOB.tokens[0] });
    await rest(s.url, '/orgs/acme', { token: SERVER_TOKEN });
    const st = (await control(s.url, '/stats')).json;
    assert.equal(st.graphql_requests, 2);
    assert.equal(st.graphql_points, 3);
    assert.equal(st.rest_requests, 2);
    assert.equal(st.user_requests, 1);
    assert.deepEqual(st.queries, { OrgTeams: 1, OrgMembers: 1 });
  });

  // ---------------------------------------------------------------- partial data

  it('collaborators_forbidden: that repository is null with FORBIDDEN, the rest of the page survives', async () => {
    const sc = structuredClone(worked);
    sc.repositories.find((r) => r.name === 'tools').collaborators_forbidden = true;
    assert.deepEqual((await control(s.url, '/scenario', sc)).json, { ok: true });
    try {
      const r = await gql(s.url, SERVER_TOKEN, QUERIES.OrgRepos, { org: 'acme' });
      const nodes = r.body.data.organization.repositories.nodes;
      assert.equal(nodes.length, 4);
      assert.equal(nodes[3].name, 'tools');
      assert.equal(nodes[3].collaborators, null);
      assert.notEqual(nodes[0].collaborators, null);
      assert.equal(r.body.errors.length, 1);
      assert.equal(r.body.errors[0].type, 'FORBIDDEN');
      assert.equal(r.body.errors[0].message, 'Must have push access to view repository collaborators.');
      assert.deepEqual(r.body.errors[0].path, ['organization', 'repositories', 'nodes', 3, 'collaborators']);
    } finally {
      await control(s.url, '/scenario', worked);
    }
  });

  it('server token scopes: no repo -> collaborators FORBIDDEN and no file text; no read:org -> secret teams hidden', async () => {
    const sc = structuredClone(worked);
    sc.server_token_scopes = ['admin:org'];
    sc.teams[1].privacy = 'SECRET';
    await control(s.url, '/scenario', sc);
    try {
      let r = await gql(s.url, SERVER_TOKEN, QUERIES.OrgRepos, { org: 'acme' });
      assert.equal(r.body.data.organization.repositories.nodes.length, 4);
      for (const n of r.body.data.organization.repositories.nodes) {
        assert.equal(n.collaborators, null);
        assert.equal(n.pyproject, null);
      }
      assert.equal(r.body.errors.length, 4);
      assert.ok(r.body.errors.every((e) => e.type === 'FORBIDDEN'));
      r = await gql(s.url, SERVER_TOKEN, QUERIES.OrgTeams, { org: 'acme' });
      assert.deepEqual(r.body.data.organization.teams.nodes.map((t) => t.slug), ['platform']);
      sc.server_token_scopes = ['repo', 'read:org'];
      await control(s.url, '/scenario', sc);
      r = await gql(s.url, SERVER_TOKEN, QUERIES.OrgTeams, { org: 'acme' });
      assert.equal(r.body.data.organization.teams.nodes.length, 2);
      const o = await rest(s.url, '/orgs/acme', { token: SERVER_TOKEN });
      assert.equal('default_repository_permission' in o.json, false);
    } finally {
      await control(s.url, '/scenario', worked);
    }
  });

  it('default_repository_permission null is left out even with admin:org', async () => {
    const sc = structuredClone(worked);
    sc.organization.default_repository_permission = null;
    await control(s.url, '/scenario', sc);
    try {
      const o = await rest(s.url, '/orgs/acme', { token: SERVER_TOKEN });
      assert.equal('default_repository_permission' in o.json, false);
    } finally {
      await control(s.url, '/scenario', worked);
    }
  });

  it('binary and very large blobs', async () => {
    const sc = structuredClone(worked);
    sc.repositories[0].files['pyproject.toml'] = null;
    sc.repositories[1].files['pyproject.toml'] = `[project]\nname = "big"\n#${'x'.repeat(600 * 1024)}\n`;
    await control(s.url, '/scenario', sc);
    try {
      const r = await gql(s.url, SERVER_TOKEN, QUERIES.OrgRepos, { org: 'acme' });
      const by = Object.fromEntries(r.body.data.organization.repositories.nodes.map((n) => [n.name, n.pyproject]));
      assert.equal(by['core-lib'].isBinary, true);
      assert.equal(by['core-lib'].text, null);
      assert.equal(by.tools.isTruncated, true);
      assert.equal(by.tools.text, null);
      assert.equal(by.tools.oid, gitBlobSha(sc.repositories[1].files['pyproject.toml']));
    } finally {
      await control(s.url, '/scenario', worked);
    }
  });

  // ---------------------------------------------------------------- scenario replace

  it('POST /_standin/scenario replaces the organization atomically', async () => {
    const edge = loadJson(EDGE);
    assert.deepEqual((await control(s.url, '/scenario', edge)).json, { ok: true });
    try {
      let r = await gql(s.url, edge.server_token, QUERIES.OrgMembers, { org: 'edge-org' });
      assert.equal(r.body.data.organization.membersWithRole.edges.length, 4);
      r = await gql(s.url, edge.server_token, '{ organization(login: "acme") { login } }');
      assert.equal(r.body.errors[0].type, 'NOT_FOUND');
      assert.equal((await gql(s.url, SERVER_TOKEN, '{ rateLimit { cost } }')).status, 401); // old token gone
      assert.equal((await rest(s.url, '/user', { token: BOB.tokens[0] })).status, 401);
      const o = await rest(s.url, '/orgs/edge-org', { token: edge.server_token });
      assert.equal(o.json.default_repository_permission, 'none');
      const bad = await control(s.url, '/scenario', '{"organization": {}}');
      assert.equal(bad.status, 400);
      assert.equal(bad.json.ok, false);
      r = await gql(s.url, edge.server_token, '{ organization(login: "edge-org") { login } }');
      assert.equal(r.body.data.organization.login, 'edge-org'); // a bad scenario changes nothing
    } finally {
      await control(s.url, '/scenario', worked);
    }
  });

  // ---------------------------------------------------------------- faults

  it('fault "down" destroys the socket; target limits what is hit', async () => {
    await control(s.url, '/faults', { mode: 'down', target: 'graphql' });
    await assert.rejects(gql(s.url, SERVER_TOKEN, '{ rateLimit { cost } }'));
    assert.equal((await rest(s.url, '/user', { token: BOB.tokens[0] })).status, 200);
    const st = (await control(s.url, '/stats')).json;
    assert.ok(st.faulted_requests >= 1);
  });

  it('fault "error5xx" answers the status with GitHub\'s error page', async () => {
    await control(s.url, '/faults', { mode: 'error5xx', status: 502 });
    const r = await gql(s.url, SERVER_TOKEN, '{ rateLimit { cost } }');
    assert.equal(r.status, 502);
    await control(s.url, '/faults', { mode: 'error5xx', status: 503, target: 'user' });
    const u = await rest(s.url, '/user', { token: BOB.tokens[0] });
    assert.equal(u.status, 503);
    assert.equal((await rest(s.url, '/orgs/acme', { token: SERVER_TOKEN })).status, 200);
  });

  it('fault "ratelimit" answers 403 with retry-after and x-ratelimit-remaining 0', async () => {
    await control(s.url, '/faults', { mode: 'ratelimit', seconds: 30, retry_after: 7 });
    const r = await rest(s.url, '/user', { token: BOB.tokens[0] });
    assert.equal(r.status, 403);
    assert.equal(r.headers.get('retry-after'), '7');
    assert.equal(r.headers.get('x-ratelimit-remaining'), '0');
    assert.ok(Number(r.headers.get('x-ratelimit-reset')) > Date.now() / 1000);
    assert.match(r.json.message, /rate limit exceeded/);
  });

  it('fault "garbage" answers 200 with invalid JSON', async () => {
    await control(s.url, '/faults', { mode: 'garbage' });
    const r = await gql(s.url, SERVER_TOKEN, '{ rateLimit { cost } }');
    assert.equal(r.status, 200);
    assert.equal(typeof r.body, 'string');
    assert.throws(() => JSON.parse(r.body));
  });

  it('fault "slow" delays the answer', async () => {
    await control(s.url, '/faults', { mode: 'slow', delay_ms: 400 });
    const t0 = Date.now();
    const r = await rest(s.url, '/user', { token: BOB.tokens[0] });
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t0 >= 380);
  });

  it('fault "partial": every repository\'s collaborators FORBIDDEN, data kept', async () => {
    await control(s.url, '/faults', { mode: 'partial' });
    const r = await gql(s.url, SERVER_TOKEN, QUERIES.OrgRepos, { org: 'acme' });
    assert.equal(r.status, 200);
    const nodes = r.body.data.organization.repositories.nodes;
    assert.equal(nodes.length, 4);
    assert.ok(nodes.every((n) => n.collaborators === null));
    assert.ok(nodes[0].pyproject.text.includes('Acme_Core'));
    assert.equal(r.body.errors.length, 4);
    assert.ok(r.body.errors.every((e) => e.type === 'FORBIDDEN'));
  });

  it('faults expire after "seconds" and after "count" requests', async () => {
    await control(s.url, '/faults', { mode: 'error5xx', count: 1 });
    assert.equal((await rest(s.url, '/user', { token: BOB.tokens[0] })).status, 502);
    assert.equal((await rest(s.url, '/user', { token: BOB.tokens[0] })).status, 200);
    await control(s.url, '/faults', { mode: 'error5xx', seconds: 1 });
    assert.equal((await rest(s.url, '/user', { token: BOB.tokens[0] })).status, 502);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await rest(s.url, '/user', { token: BOB.tokens[0] })).status, 200);
    const bad = await control(s.url, '/faults', { mode: 'explode' });
    assert.equal(bad.status, 400);
  });

  // ---------------------------------------------------------------- webhooks

  it('signature test vector from the spec', () => {
    assert.equal(
      sign("It's a Secret to Everybody", 'Hello, World!').sha256,
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });

  it('POST /_standin/webhook delivers signed payloads built from the examples', async () => {
    const received = [];
    const receiver = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
        res.writeHead(received.length === 1 ? 204 : 200);
        res.end();
      });
    });
    await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${receiver.address().port}/webhook`;
    const secret = 'It\'s a Secret to Everybody';
    try {
      const r = await control(s.url, '/webhook', {
        url,
        secret,
        event: 'organization',
        payload_action: 'member_removed',
        login: 'bob',
        delivery: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      });
      assert.equal(r.status, 200);
      assert.equal(r.json.status, 204);
      assert.equal(r.json.delivery, '72d3162e-cc78-11e3-81ab-4c9367dc0958');
      assert.equal(typeof r.json.elapsed_ms, 'number');
      const got = received[0];
      assert.equal(got.headers['x-github-event'], 'organization');
      assert.equal(got.headers['x-github-delivery'], '72d3162e-cc78-11e3-81ab-4c9367dc0958');
      assert.ok(got.headers['x-github-hook-id']);
      assert.match(got.headers['user-agent'], /^GitHub-Hookshot\//);
      assert.equal(got.headers['content-type'], 'application/json');
      const expect = `sha256=${crypto.createHmac('sha256', secret).update(got.raw).digest('hex')}`;
      assert.equal(got.headers['x-hub-signature-256'], expect);
      assert.equal(
        got.headers['x-hub-signature'],
        `sha1=${crypto.createHmac('sha1', secret).update(got.raw).digest('hex')}`,
      );
      const p = JSON.parse(got.raw);
      assert.equal(p.action, 'member_removed');
      assert.equal(p.membership.user.login, 'bob');
      assert.equal(p.membership.user.id, 102);
      assert.equal(p.organization.login, 'acme');
      assert.equal(p.organization.id, 9000);

      const cases = [
        ['organization', 'member_added', (q) => assert.equal(q.membership.user.login, 'bob')],
        ['membership', 'added', (q) => assert.equal(q.team.slug, 'platform-infra') || assert.equal(q.team.parent.slug, 'platform')],
        ['membership', 'removed', (q) => assert.equal(q.member.login, 'bob')],
        ['team', 'created', (q) => assert.equal(q.team.slug, 'platform-infra')],
        ['team', 'deleted', (q) => assert.equal(q.team.id, 202)],
        ['team', 'edited', (q) => assert.ok(q.changes)],
        ['team', 'added_to_repository', (q) => assert.equal(q.repository.full_name, 'acme/tools')],
        ['team', 'removed_from_repository', (q) => assert.equal(q.repository.id, 302)],
        ['member', 'added', (q) => assert.equal(q.member.login, 'bob') || assert.equal(q.repository.name, 'tools')],
        ['member', 'removed', (q) => assert.equal(q.repository.owner.login, 'acme')],
        ['member', 'edited', (q) => assert.ok(q.changes.old_permission)],
        ['repository', 'created', (q) => assert.equal(q.repository.name, 'tools')],
        ['repository', 'deleted', (q) => assert.equal(q.repository.id, 302)],
        ['repository', 'archived', (q) => assert.equal(q.repository.archived, true)],
        ['repository', 'renamed', (q) => assert.equal(q.changes.repository.name.from, 'old-tools')],
        ['push', undefined, (q) => assert.equal(q.ref, 'refs/heads/main') || assert.ok(q.head_commit.modified.includes('pyproject.toml'))],
      ];
      for (const [event, action, check] of cases) {
        const before = received.length;
        const res = await control(s.url, '/webhook', {
          url,
          secret: 's3cret',
          event,
          payload_action: action,
          login: 'bob',
          team: 'platform-infra',
          repository: 'tools',
          old_name: 'old-tools',
        });
        assert.equal(res.status, 200, `${event}.${action}: ${JSON.stringify(res.json)}`);
        assert.equal(res.json.status, 200);
        const d = received[before];
        assert.equal(d.headers['x-github-event'], event);
        assert.equal(d.headers['x-hub-signature-256'], `sha256=${crypto.createHmac('sha256', 's3cret').update(d.raw).digest('hex')}`);
        const q = JSON.parse(d.raw);
        if (action) assert.equal(q.action, action);
        assert.equal(q.organization.login, 'acme');
        assert.ok(q.sender.login);
        check(q);
      }
      // Shapes of GitHub's published schema for the changes ghaccess applies at once.
      const shapes = [
        // team edited, repository permission: changes.repository.permissions.from holds
        // the old flags, repository.permissions the team's permission now.
        [{ event: 'team', payload_action: 'edited', team: 'platform', repository: 'core-lib', old_permission: 'admin' },
          (q) => {
            assert.deepEqual(q.changes, { repository: { permissions: { from: { admin: true, pull: true, push: true } } } });
            assert.deepEqual(q.repository.permissions, { admin: false, maintain: false, push: true, triage: true, pull: true });
            assert.equal(q.repository.role_name, 'write');
          }],
        // team edited otherwise: no repository, the team with its parent as it is now.
        [{ event: 'team', payload_action: 'edited', team: 'platform-infra', old_name: 'Infra' },
          (q) => {
            assert.deepEqual(q.changes, { name: { from: 'Infra' } });
            assert.equal(q.repository, undefined);
            assert.equal(q.team.parent.slug, 'platform');
          }],
        // member edited: old_permission.from, and permission.{from,to} with the role now.
        [{ event: 'member', payload_action: 'edited', login: 'erin', repository: 'tools', old_permission: 'admin' },
          (q) => assert.deepEqual(q.changes, { old_permission: { from: 'admin' }, permission: { from: 'admin', to: 'write' } })],
        // a team removed from a repository holds no permission on it any more.
        [{ event: 'team', payload_action: 'removed_from_repository', team: 'platform', repository: 'core-lib' },
          (q) => assert.equal(q.repository.permissions.pull, false)],
        // transferred (only ever sent to the new owner): changes.owner.from.
        [{ event: 'repository', payload_action: 'transferred', repository: 'docs', old_owner: 'octocat' },
          (q) => {
            assert.equal(q.changes.owner.from.user.login, 'octocat');
            assert.equal(q.repository.owner.login, 'acme');
          }],
      ];
      for (const [request, check] of shapes) {
        const before = received.length;
        const res = await control(s.url, '/webhook', Object.assign({ url, secret }, request));
        assert.equal(res.status, 200, JSON.stringify(res.json));
        check(JSON.parse(received[before].raw));
      }
      const unknown = await control(s.url, '/webhook', { url, secret, event: 'star' });
      assert.equal(unknown.status, 400);
    } finally {
      receiver.close();
    }
  });
});

// ------------------------------------------------------------------ generated org

describe('generated organization', () => {
  const spec = 'repos=260,teams=60,members=1234,seed=7';
  let s;
  let sc;
  const token = 'ghp_generated_server_token';
  before(async () => {
    sc = dumpScenario(['--generate', spec]);
    s = await startServer(['--generate', spec, '--ratelimit-limit', '100000']);
  });
  after(async () => {
    await s.stop();
  });

  it('--dump-scenario is deterministic and has the promised shape', () => {
    const again = dumpScenario(['--generate', spec]);
    assert.deepEqual(again, sc);
    assert.equal(sc.organization.login, 'genorg');
    assert.equal(sc.organization.default_repository_permission, 'read');
    assert.equal(sc.server_token, token);
    for (const u of sc.users) assert.deepEqual(u.tokens, [`ghp_gen_${u.login}`]);
    const owners = sc.users.filter((u) => u.org_role === 'ADMIN').length;
    assert.ok(owners >= 1 && owners < 0.05 * 1234, `owners ${owners}`);
    assert.ok(sc.teams.some((t) => t.members.length > 100));
    assert.ok(sc.teams.some((t) => t.repositories.length > 100));
    assert.ok(sc.repositories.some((r) => r.collaborators.length > 100));
    assert.ok(sc.teams.some((t) => t.parent));
    const depth = (t) => (t.parent ? 1 + depth(sc.teams.find((x) => x.slug === t.parent)) : 1);
    assert.ok(sc.teams.every((t) => depth(t) <= 4));
    const other = dumpScenario(['--generate', 'repos=260,teams=60,members=1234,seed=8']);
    assert.notDeepEqual(other.teams, sc.teams);
  });

  it('cursor pagination returns every member exactly once', async () => {
    const { items, pages } = await paginate(s.url, token, QUERIES.OrgMembers, { org: 'genorg' }, (d) => d.organization.membersWithRole);
    assert.equal(pages, 13);
    const logins = items.map((e) => e.node.login);
    assert.equal(new Set(logins).size, logins.length);
    const expected = sc.users.filter((u) => u.org_role).map((u) => u.login);
    assert.deepEqual(logins.sort(), expected.sort());
  });

  it('teams and repositories paginate; nested connections over 100 report hasNextPage and follow up', async () => {
    const teams = await paginate(s.url, token, QUERIES.OrgTeams, { org: 'genorg' }, (d) => d.organization.teams);
    assert.equal(teams.items.length, 60);
    const big = teams.items.find((t) => t.slug === 'team-2');
    assert.equal(big.members.pageInfo.hasNextPage, true);
    const members = await paginate(s.url, token, QUERIES.TeamMembers, { org: 'genorg', slug: 'team-2' }, (d) => d.organization.team.members);
    assert.deepEqual(
      members.items.map((e) => e.node.login),
      sc.teams.find((t) => t.slug === 'team-2').members.map((m) => m.login),
    );
    const grants = await paginate(s.url, token, QUERIES.TeamRepos, { org: 'genorg', slug: 'team-3' }, (d) => d.organization.team.repositories);
    assert.equal(grants.items.length, 130);

    const repos = await paginate(s.url, token, QUERIES.OrgRepos, { org: 'genorg' }, (d) => d.organization.repositories);
    assert.equal(repos.items.length, 260);
    assert.equal(new Set(repos.items.map((r) => r.name)).size, 260);
    const r1 = repos.items.find((r) => r.name === 'repo-00001');
    assert.equal(r1.collaborators.pageInfo.hasNextPage, true);
    const collabs = await paginate(s.url, token, QUERIES.RepoCollaborators, { org: 'genorg', name: 'repo-00001' }, (d) => d.repository.collaborators);
    assert.equal(collabs.items.length, sc.repositories[0].collaborators.length);
  });

  it('stays fast: a page of 100 repositories answers well under a second', async () => {
    const t0 = Date.now();
    const r = await gql(s.url, token, QUERIES.OrgRepos, { org: 'genorg' });
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t0 < 1000);
  });

  it('cost-compare.js measures the seed plan from the stand-in\'s counters', async () => {
    // A small organization of its own: 40 repositories, 230 members with base
    // permission read, so every repository has 3 pages of collaborators (ALL).
    const small = await startServer(['--generate', 'repos=40,teams=5,members=230,seed=3', '--ratelimit-limit', '100000']);
    try {
      const out = execFileSync(
        process.execPath,
        [path.join(__dirname, '..', 'cost-compare.js'), '--url', small.url, '--token', token],
        { encoding: 'utf8' },
      );
      const j = JSON.parse(out);
      assert.equal(j.repositories, 40);
      assert.equal(j.listing_requests, 1);
      assert.equal(j.collaborator_requests, 40 * 3);
      assert.equal(j.requests, 1 + 40 * 3);
      assert.equal(j.points, j.requests);
      const st = (await control(small.url, '/stats')).json;
      assert.equal(st.graphql_requests, j.requests);
      assert.equal(st.queries.RepoCollaborators, 120);
    } finally {
      await small.stop();
    }
  });
});

// ------------------------------------------------------------------ rate limit

describe('rate limit budget', () => {
  let s;
  before(async () => {
    s = await startServer(['--scenario', WORKED, '--ratelimit-limit', '3', '--rest-ratelimit-limit', '2']);
  });
  after(async () => {
    await s.stop();
  });

  it('GraphQL: cost is taken from the token\'s budget; exhausted -> RATE_LIMITED with remaining 0', async () => {
    let r = await gql(s.url, SERVER_TOKEN, QUERIES.OrgTeams, { org: 'acme' });
    assert.equal(r.body.data.rateLimit.remaining, 1);
    r = await gql(s.url, SERVER_TOKEN, QUERIES.OrgMembers, { org: 'acme' });
    assert.equal(r.body.data.rateLimit.remaining, 0);
    assert.equal(r.headers.get('x-ratelimit-remaining'), '0');
    r = await gql(s.url, SERVER_TOKEN, QUERIES.OrgMembers, { org: 'acme' });
    assert.equal(r.status, 200);
    assert.equal(r.body.errors[0].type, 'RATE_LIMITED');
    assert.match(r.body.errors[0].message, /API rate limit exceeded/);
    assert.equal(r.headers.get('x-ratelimit-remaining'), '0');
    assert.equal(r.headers.get('x-ratelimit-used'), '3');
    // another token has its own budget
    r = await gql(s.url, BOB.tokens[0], QUERIES.OrgMembers, { org: 'acme' });
    assert.equal(r.body.data.rateLimit.remaining, 2);
  });

  it('REST: 403 once the core budget is spent', async () => {
    assert.equal((await rest(s.url, '/user', { token: ERIN.tokens[0] })).status, 200);
    assert.equal((await rest(s.url, '/user', { token: ERIN.tokens[0] })).status, 200);
    const r = await rest(s.url, '/user', { token: ERIN.tokens[0] });
    assert.equal(r.status, 403);
    assert.equal(r.headers.get('x-ratelimit-remaining'), '0');
    await control(s.url, '/ratelimit/reset', {});
    assert.equal((await rest(s.url, '/user', { token: ERIN.tokens[0] })).status, 200);
  });
});

// ------------------------------------------------------------------ GitHub App

describe('GitHub App mode', () => {
  let s;
  let dir;
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = (claims, key = privateKey, header = { alg: 'RS256', typ: 'JWT' }) => {
    const input = `${b64(header)}.${b64(claims)}`;
    return `${input}.${crypto.sign('RSA-SHA256', Buffer.from(input), key).toString('base64url')}`;
  };
  const now = () => Math.floor(Date.now() / 1000);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'standin-app-'));
    fs.writeFileSync(path.join(dir, 'app.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    s = await startServer([
      '--scenario', WORKED,
      '--app-id', '12345',
      '--app-public-key', path.join(dir, 'app.pem'),
      '--app-token-ttl', '2',
    ]);
  });
  after(async () => {
    await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('JWT -> installation -> access token -> GraphQL with full scopes; token expires', async () => {
    const good = jwt({ iat: now() - 60, exp: now() + 540, iss: '12345' });
    let r = await rest(s.url, '/orgs/acme/installation', { token: good });
    assert.equal(r.status, 200);
    assert.equal(r.json.id, 4242);
    assert.equal(r.json.account.login, 'acme');
    r = await rest(s.url, '/app/installations/4242/access_tokens', { token: jwt({ iat: now() - 60, exp: now() + 540, iss: 12345 }), method: 'POST' });
    assert.equal(r.status, 201);
    assert.match(r.json.token, /^ghs_/);
    assert.equal(r.json.repository_selection, 'all');
    const expires = Date.parse(r.json.expires_at);
    assert.ok(expires > Date.now() && expires < Date.now() + 5000);
    const inst = r.json.token;
    const q = await gql(s.url, inst, QUERIES.OrgRepos, { org: 'acme' });
    assert.equal(q.body.errors, undefined);
    assert.equal(q.body.data.organization.repositories.nodes[3].collaborators.edges.length, 2);
    const o = await rest(s.url, '/orgs/acme', { token: inst });
    assert.equal(o.json.default_repository_permission, 'read');
    assert.equal((await rest(s.url, '/user', { token: inst })).status, 403);
    await new Promise((res) => setTimeout(res, 2100));
    assert.equal((await gql(s.url, inst, '{ rateLimit { cost } }')).status, 401);
  });

  it('rejects bad JWTs with 401', async () => {
    const cases = [
      jwt({ iat: now() - 60, exp: now() + 540, iss: '12345' }, other.privateKey), // wrong key
      jwt({ iat: now() - 60, exp: now() + 540, iss: '99999' }), // wrong app
      jwt({ iat: now() - 700, exp: now() - 10, iss: '12345' }), // expired
      jwt({ iat: now() - 60, exp: now() + 900, iss: '12345' }), // too long
      jwt({ iat: now() + 300, exp: now() + 600, iss: '12345' }), // issued in the future
      jwt({ iat: now() - 60, exp: now() + 540, iss: '12345' }, privateKey, { alg: 'HS256', typ: 'JWT' }),
      'not-a-jwt',
      SERVER_TOKEN,
    ];
    for (const t of cases) {
      const r = await rest(s.url, '/orgs/acme/installation', { token: t });
      assert.equal(r.status, 401, t);
    }
    const r = await rest(s.url, '/app/installations/1/access_tokens', { token: jwt({ iat: now(), exp: now() + 500, iss: '12345' }), method: 'POST' });
    assert.equal(r.status, 404);
  });
});

// ------------------------------------------------------------------ GHES prefix

describe('--prefix /api (GitHub Enterprise Server layout)', () => {
  let s;
  before(async () => {
    s = await startServer(['--scenario', WORKED, '--prefix', '/api']);
  });
  after(async () => {
    await s.stop();
  });

  it('GraphQL at /api/graphql, REST under /api/v3', async () => {
    const r = await gql(s.url, SERVER_TOKEN, QUERIES.OrgMembers, { org: 'acme' }, { prefix: '/api' });
    assert.equal(r.body.data.organization.membersWithRole.edges.length, 4);
    assert.equal((await gql(s.url, SERVER_TOKEN, QUERIES.OrgMembers, { org: 'acme' })).status, 404);
    const u = await rest(s.url, '/api/v3/user', { token: BOB.tokens[0] });
    assert.equal(u.status, 200);
    assert.equal(u.json.login, 'bob');
    assert.equal(u.json.url, `${s.url}/api/v3/users/bob`);
    assert.equal((await rest(s.url, '/api/v3/orgs/acme', { token: SERVER_TOKEN })).json.default_repository_permission, 'read');
    assert.equal((await rest(s.url, '/user', { token: BOB.tokens[0] })).status, 404);
  });
});
