'use strict';
// The stand-in's model of GitHub where both it and ghaccess once read the
// documentation the same wrong way (issue 11): collaborator permissions
// and their sources, nullable fields, forks and templates, App
// reinstallations. Each case names the GitHub documentation it follows
// (README.md, "Documentation followed").

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { startServer, gql, rest, control, loadJson, WORKED } = require('./helpers');

// The repository's own scenario, whatever GHACCESS_SCENARIOS names.
const SOURCES_FILE = path.join(__dirname, '..', '..', 'scenarios', 'permission-sources.json');
const SOURCES = loadJson(SOURCES_FILE);
const TOKEN = SOURCES.server_token;

const EDGE = `permission node { login }
  permissionSources { permission roleName
    source { __typename ... on Repository { databaseId name } ... on Team { databaseId slug } ... on Organization { databaseId login } } }`;

const REPOS = `query R($org: String!, $affiliation: CollaboratorAffiliation) {
  organization(login: $org) {
    repositories(first: 100, orderBy: {field: NAME, direction: ASC}) {
      nodes { name isFork isTemplate parent { nameWithOwner }
        collaborators(first: 100, affiliation: $affiliation) { edges { ${EDGE} } } }
    }
  }
}`;

function withScenario(changes) {
  const s = JSON.parse(JSON.stringify(SOURCES));
  changes(s);
  delete s.expect;
  return s;
}

function sourceName(src) {
  const s = src.source;
  if (s.__typename === 'Repository') return `Repository:${s.name}`;
  if (s.__typename === 'Team') return `Team:${s.slug}`;
  return `Organization:${s.login}`;
}

describe('collaborator permissions and their sources', () => {
  let s;
  before(async () => {
    s = await startServer(['--scenario', SOURCES_FILE]);
  });
  after(async () => {
    await s.stop();
  });

  it('DIRECT edges carry the highest permission after every source, not the direct grant', async () => {
    const r = await gql(s.url, TOKEN, REPOS, { org: 'acme-sources', affiliation: 'DIRECT' });
    assert.equal(r.body.errors, undefined);
    const repos = Object.fromEntries(r.body.data.organization.repositories.nodes.map((x) => [x.name, x]));
    const edges = (name) => repos[name].collaborators.edges;
    // frank: direct READ, WRITE through team platform -> WRITE.
    assert.deepEqual(
      edges('core-lib').map((e) => [e.node.login, e.permission]),
      [
        ['frank', 'WRITE'],
        ['hank', 'MAINTAIN'],
      ],
    );
    // gina: direct WRITE, TRIAGE through triagers -> WRITE; ivy (outside): her direct WRITE.
    assert.deepEqual(
      edges('tools').map((e) => [e.node.login, e.permission]),
      [
        ['gina', 'WRITE'],
        ['ivy', 'WRITE'],
      ],
    );
  });

  it('permissionSources: organization, teams and the repository; READ/WRITE/ADMIN with the exact roleName', async () => {
    const r = await gql(s.url, TOKEN, REPOS, { org: 'acme-sources', affiliation: 'DIRECT' });
    const repos = Object.fromEntries(r.body.data.organization.repositories.nodes.map((x) => [x.name, x]));
    const sources = (name, login) =>
      repos[name].collaborators.edges
        .find((e) => e.node.login === login)
        .permissionSources.map((x) => [sourceName(x), x.permission, x.roleName]);
    assert.deepEqual(sources('core-lib', 'frank'), [
      ['Organization:acme-sources', 'READ', 'read'],
      ['Team:platform', 'WRITE', 'write'],
      ['Repository:core-lib', 'READ', 'read'],
    ]);
    // maintain is reported as WRITE, its roleName says maintain.
    assert.deepEqual(sources('core-lib', 'hank'), [
      ['Organization:acme-sources', 'READ', 'read'],
      ['Repository:core-lib', 'WRITE', 'maintain'],
    ]);
    // triage is reported as READ.
    assert.deepEqual(sources('tools', 'gina'), [
      ['Organization:acme-sources', 'READ', 'read'],
      ['Team:triagers', 'READ', 'triage'],
      ['Repository:tools', 'WRITE', 'write'],
    ]);
    assert.deepEqual(sources('tools', 'ivy'), [['Repository:tools', 'WRITE', 'write']]);
    const frank = repos['core-lib'].collaborators.edges[0].permissionSources;
    assert.equal(frank[2].source.databaseId, 311);
    assert.equal(frank[1].source.databaseId, 211);
  });

  it('owners are ADMIN through the organization; ALL lists them with their sources', async () => {
    const r = await gql(s.url, TOKEN, REPOS, { org: 'acme-sources', affiliation: 'ALL' });
    const core = r.body.data.organization.repositories.nodes.find((x) => x.name === 'core-lib');
    const olivia = core.collaborators.edges.find((e) => e.node.login === 'olivia');
    assert.equal(olivia.permission, 'ADMIN');
    assert.deepEqual(olivia.permissionSources.map((x) => [sourceName(x), x.permission, x.roleName]), [
      ['Organization:acme-sources', 'ADMIN', 'admin'],
    ]);
  });

  it('permissionSources needs admin:org: without it, no data and INSUFFICIENT_SCOPES, nothing charged', async () => {
    const scenario = withScenario((x) => {
      x.server_token_scopes = ['repo', 'read:org'];
    });
    assert.equal((await control(s.url, '/scenario', scenario)).status, 200);
    try {
      await control(s.url, '/stats/reset', {});
      const r = await gql(s.url, TOKEN, REPOS, { org: 'acme-sources', affiliation: 'DIRECT' });
      assert.equal(r.status, 200);
      assert.equal(r.body.data, null);
      assert.equal(r.body.errors.length, 1);
      assert.equal(r.body.errors[0].type, 'INSUFFICIENT_SCOPES');
      assert.match(r.body.errors[0].message, /The 'permissionSources' field requires one of the following scopes: \['admin:org'\]/);
      assert.match(r.body.errors[0].message, /granted the: \['read:org', 'repo'\] scopes/);
      assert.equal((await control(s.url, '/stats')).json.graphql_points, 0);
      // The same query without permissionSources is answered.
      const plain = await gql(s.url, TOKEN, REPOS.replace(/permissionSources \{[^]*?\} \} \}/, ''), {
        org: 'acme-sources',
        affiliation: 'DIRECT',
      });
      assert.equal(plain.body.errors, undefined);
      assert.equal(plain.body.data.organization.repositories.nodes[0].collaborators.edges[0].permission, 'WRITE');
    } finally {
      await control(s.url, '/scenario', SOURCES);
    }
  });

  it('forks and templates: isFork, parent, isTemplate', async () => {
    const r = await gql(s.url, TOKEN, REPOS, { org: 'acme-sources', affiliation: 'DIRECT' });
    const repos = Object.fromEntries(r.body.data.organization.repositories.nodes.map((x) => [x.name, x]));
    assert.equal(repos.requests.isFork, true);
    assert.deepEqual(repos.requests.parent, { nameWithOwner: 'psf/requests' });
    assert.equal(repos['package-template'].isTemplate, true);
    assert.equal(repos['package-template'].isFork, false);
    assert.equal(repos['core-lib'].parent, null);
    assert.equal(repos['core-lib'].isTemplate, false);
    const only = await gql(s.url, TOKEN, `{ organization(login: "acme-sources") {
      repositories(first: 10, isFork: true) { nodes { name } } } }`);
    assert.deepEqual(only.body.data.organization.repositories.nodes, [{ name: 'requests' }]);
  });
});

describe('nullable fields and files given as Blob fields', () => {
  let s;
  before(async () => {
    s = await startServer(['--scenario', SOURCES_FILE]);
  });
  after(async () => {
    await s.stop();
  });

  const ALL = `query A($org: String!) {
    organization(login: $org) {
      membersWithRole(first: 100) { nodes { login } edges { role node { login databaseId } } }
      teams(first: 100) { nodes { slug databaseId } edges { node { slug } } }
      repositories(first: 100, orderBy: {field: NAME, direction: ASC}) {
        nodes { name databaseId
          pyproject: object(expression: "HEAD:pyproject.toml") { ... on Blob { oid isBinary isTruncated text byteSize } }
          collaborators(first: 100, affiliation: DIRECT) { edges { ${EDGE} } } }
      }
    }
  }`;

  it('null_fields answer null where the schema allows it; everything else is untouched', async () => {
    const scenario = withScenario((x) => {
      x.users.find((u) => u.login === 'olivia').null_fields = ['OrganizationMemberEdge.role'];
      x.users.find((u) => u.login === 'gina').null_fields = ['OrganizationMemberEdge.node'];
      x.users.find((u) => u.login === 'hank').null_fields = ['User.databaseId'];
      x.teams.find((t) => t.slug === 'triagers').null_fields = ['TeamEdge.node'];
      x.repositories.find((r) => r.name === 'requests').null_fields = ['RepositoryEdge.node'];
      x.repositories.find((r) => r.name === 'tools').null_fields = ['Repository.databaseId'];
      const core = x.repositories.find((r) => r.name === 'core-lib');
      core.collaborators.find((c) => c.login === 'frank').null_fields = ['RepositoryCollaboratorEdge.permissionSources'];
      core.collaborators.find((c) => c.login === 'hank').null_fields = ['PermissionSource.roleName'];
      core.files['pyproject.toml'] = { text: null, isBinary: null };
    });
    const set = await control(s.url, '/scenario', scenario);
    assert.equal(set.status, 200, JSON.stringify(set.json));
    try {
      const r = await gql(s.url, TOKEN, ALL, { org: 'acme-sources' });
      assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
      const o = r.body.data.organization;
      assert.deepEqual(
        o.membersWithRole.edges.map((e) => [e.role, e.node && e.node.login, e.node && e.node.databaseId]),
        [
          [null, 'olivia', 111],
          ['MEMBER', 'frank', 112],
          ['MEMBER', null, null],
          ['MEMBER', 'hank', null],
        ],
      );
      assert.deepEqual(o.membersWithRole.nodes, [{ login: 'olivia' }, { login: 'frank' }, null, { login: 'hank' }]);
      assert.deepEqual(o.teams.nodes, [{ slug: 'platform', databaseId: 211 }, null]);
      assert.deepEqual(o.teams.edges, [{ node: { slug: 'platform' } }, { node: null }]);
      const repos = o.repositories.nodes;
      assert.equal(repos.length, 4);
      assert.deepEqual(
        repos.map((x) => x && x.name),
        ['core-lib', 'package-template', null, 'tools'],
      );
      assert.equal(repos[3].databaseId, null);
      const core = repos[0];
      assert.equal(core.pyproject.isBinary, null);
      assert.equal(core.pyproject.text, null);
      assert.equal(core.pyproject.isTruncated, false);
      assert.match(core.pyproject.oid, /^[0-9a-f]{40}$/);
      const frank = core.collaborators.edges.find((e) => e.node.login === 'frank');
      assert.equal(frank.permissionSources, null);
      assert.equal(frank.permission, 'WRITE');
      const hank = core.collaborators.edges.find((e) => e.node.login === 'hank');
      const direct = hank.permissionSources.find((x) => x.source.__typename === 'Repository');
      assert.equal(direct.roleName, null);
      assert.equal(direct.permission, 'WRITE');
      // Only the repository source of that edge lost its roleName.
      assert.equal(hank.permissionSources[0].roleName, 'read');
    } finally {
      await control(s.url, '/scenario', SOURCES);
    }
  });

  it('a file given as Blob fields is answered as given', async () => {
    const scenario = withScenario((x) => {
      x.repositories[0].files['pyproject.toml'] = { text: '[project]\nname = "x"\n', isTruncated: true, byteSize: 600000 };
    });
    assert.equal((await control(s.url, '/scenario', scenario)).status, 200);
    try {
      const r = await gql(s.url, TOKEN, ALL, { org: 'acme-sources' });
      const blob = r.body.data.organization.repositories.nodes[0].pyproject;
      assert.deepEqual(
        { isBinary: blob.isBinary, isTruncated: blob.isTruncated, byteSize: blob.byteSize, text: blob.text },
        { isBinary: false, isTruncated: true, byteSize: 600000, text: '[project]\nname = "x"\n' },
      );
    } finally {
      await control(s.url, '/scenario', SOURCES);
    }
  });

  it('refuses null_fields GitHub never answers null, other types, and unknown Blob fields', async () => {
    const bad = [
      (x) => {
        x.users[0].null_fields = ['User.login'];
      },
      (x) => {
        x.users[0].null_fields = ['Repository.databaseId'];
      },
      (x) => {
        x.repositories[0].null_fields = ['Repository.nosuchfield'];
      },
      (x) => {
        x.repositories[0].collaborators[0].null_fields = ['RepositoryCollaboratorEdge.permission'];
      },
      (x) => {
        x.repositories[0].files['pyproject.toml'] = { isTruncated: null };
      },
      (x) => {
        x.repositories[0].files['pyproject.toml'] = { colour: 'blue' };
      },
      (x) => {
        x.repositories[0].null_fields = 'Repository.databaseId';
      },
    ];
    for (const change of bad) {
      const r = await control(s.url, '/scenario', withScenario(change));
      assert.equal(r.status, 400, JSON.stringify(r.json));
      assert.equal(r.json.ok, false);
    }
  });
});

describe('GitHub App installations that change', () => {
  let s;
  let dir;
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = () => {
    const now = Math.floor(Date.now() / 1000);
    const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iat: now - 60, exp: now + 540, iss: '777' })}`;
    return `${input}.${crypto.sign('RSA-SHA256', Buffer.from(input), privateKey).toString('base64url')}`;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'standin-install-'));
    fs.writeFileSync(path.join(dir, 'app.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    s = await startServer(['--scenario', WORKED, '--app-id', '777', '--app-public-key', path.join(dir, 'app.pem')]);
  });
  after(async () => {
    await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a reinstall gets a new installation id: the old one 404s, its tokens 401', async () => {
    let r = await rest(s.url, '/orgs/acme/installation', { token: jwt() });
    assert.equal(r.status, 200);
    const first = r.json.id;
    r = await rest(s.url, `/app/installations/${first}/access_tokens`, { token: jwt(), method: 'POST' });
    assert.equal(r.status, 201);
    const oldToken = r.json.token;
    assert.equal((await gql(s.url, oldToken, '{ rateLimit { cost } }')).status, 200);

    const changed = await control(s.url, '/app/installation', { action: 'reinstall' });
    assert.equal(changed.status, 200);
    assert.equal(changed.json.installation_id, first + 1);
    assert.equal((await gql(s.url, oldToken, '{ rateLimit { cost } }')).status, 401);
    r = await rest(s.url, `/app/installations/${first}/access_tokens`, { token: jwt(), method: 'POST' });
    assert.equal(r.status, 404);
    assert.equal(r.json.message, 'Not Found');
    r = await rest(s.url, '/orgs/acme/installation', { token: jwt() });
    assert.equal(r.json.id, first + 1);
    assert.match(r.json.access_tokens_url, new RegExp(`/app/installations/${first + 1}/access_tokens$`));
    r = await rest(s.url, `/app/installations/${first + 1}/access_tokens`, { token: jwt(), method: 'POST' });
    assert.equal(r.status, 201);
  });

  it('uninstalled: the organization installation is 404 until installed again', async () => {
    let c = await control(s.url, '/app/installation', { action: 'uninstall' });
    assert.deepEqual([c.json.installed, c.json.installation_id], [false, null]);
    assert.equal((await rest(s.url, '/orgs/acme/installation', { token: jwt() })).status, 404);
    c = await control(s.url, '/app/installation', { action: 'install', id: 9001 });
    assert.equal(c.json.installation_id, 9001);
    const r = await rest(s.url, '/orgs/acme/installation', { token: jwt() });
    assert.equal(r.json.id, 9001);
    assert.equal((await control(s.url, '/app/installation', { action: 'explode' })).status, 400);
    assert.equal((await control(s.url, '/app/installation')).json.installation_id, 9001);
  });
});
