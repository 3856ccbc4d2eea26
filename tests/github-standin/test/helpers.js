'use strict';
// Test helpers: start the stand-in as a child process, talk to it.

const { spawn, execFileSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const SERVER = path.join(__dirname, '..', 'server.js');

function findScenarios() {
  const candidates = [
    process.env.GHACCESS_SCENARIOS,
    path.join(__dirname, '..', '..', 'scenarios'), // tests/scenarios in the repository
  ].filter(Boolean);
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'worked-example.json'))) return dir;
  }
  throw new Error('cannot find worked-example.json (set GHACCESS_SCENARIOS)');
}

const SCENARIOS = findScenarios();
const WORKED = path.join(SCENARIOS, 'worked-example.json');
const EDGE = path.join(SCENARIOS, 'edge-cases.json');

function loadJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Start server.js with args; resolves {url, port, proc, stop(), stderr()} once it prints its address. */
function startServer(args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [SERVER, '--listen', '127.0.0.1:0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      proc.kill();
      reject(new Error(`server did not start: ${err}`));
    }, 20000);
    proc.stderr.on('data', (d) => {
      err += d;
    });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /^listening on (http:\/\/127\.0\.0\.1:(\d+))\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          port: Number(m[2]),
          proc,
          firstLine: out.split('\n')[0],
          stderr: () => err,
          stop: () =>
            new Promise((r) => {
              if (proc.exitCode !== null) return r();
              proc.once('exit', () => r());
              proc.kill('SIGTERM');
            }),
        });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${err}`));
    });
  });
}

function dumpScenario(args) {
  return JSON.parse(execFileSync(process.execPath, [SERVER, ...args, '--dump-scenario'], { maxBuffer: 1 << 28 }).toString());
}

/** POST a GraphQL query. Returns {status, headers, body}. */
async function gql(base, token, query, variables, opts = {}) {
  const headers = { 'user-agent': 'standin-test', 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `${opts.scheme || 'bearer'} ${token}`;
  const r = await fetch(`${base}${opts.prefix || ''}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables: variables || {}, operationName: opts.operationName }),
  });
  const text = await r.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: r.status, headers: r.headers, body };
}

async function rest(base, path, { token, method = 'GET', headers = {}, body } = {}) {
  const h = Object.assign({ 'user-agent': 'standin-test', accept: 'application/vnd.github+json' }, headers);
  if (token) h.authorization = `Bearer ${token}`;
  const r = await fetch(`${base}${path}`, { method, headers: h, body });
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

async function control(base, path, body) {
  const r = await fetch(`${base}/_standin${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

const QUERIES = {
  OrgMembers: `query OrgMembers($org: String!, $after: String) {
  rateLimit { cost remaining resetAt }
  organization(login: $org) {
    membersWithRole(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { role node { login databaseId } }
    }
  }
}`,
  OrgTeams: `query OrgTeams($org: String!, $after: String) {
  rateLimit { cost remaining resetAt }
  organization(login: $org) {
    teams(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        databaseId slug name parentTeam { slug }
        members(first: 100, membership: IMMEDIATE) {
          pageInfo { hasNextPage endCursor }
          edges { role node { login databaseId } }
        }
        repositories(first: 100) {
          pageInfo { hasNextPage endCursor }
          edges { permission node { name } }
        }
      }
    }
  }
}`,
  OrgRepos: `query OrgRepos($org: String!, $after: String) {
  rateLimit { cost remaining resetAt }
  organization(login: $org) {
    repositories(first: 100, after: $after, orderBy: {field: NAME, direction: ASC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        databaseId name isArchived isDisabled
        pyproject: object(expression: "HEAD:pyproject.toml") {
          ... on Blob { oid isBinary isTruncated text }
        }
        collaborators(first: 100, affiliation: DIRECT) {
          pageInfo { hasNextPage endCursor }
          edges { permission node { login databaseId } }
        }
      }
    }
  }
}`,
  TeamMembers: `query TeamMembers($org: String!, $slug: String!, $after: String) {
  organization(login: $org) {
    team(slug: $slug) {
      members(first: 100, after: $after, membership: IMMEDIATE) {
        pageInfo { hasNextPage endCursor }
        totalCount
        edges { role node { login databaseId } }
      }
    }
  }
}`,
  TeamRepos: `query TeamRepos($org: String!, $slug: String!, $after: String) {
  organization(login: $org) {
    team(slug: $slug) {
      repositories(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        totalCount
        edges { permission node { name } }
      }
    }
  }
}`,
  RepoCollaborators: `query RepoCollaborators($org: String!, $name: String!, $after: String) {
  repository(owner: $org, name: $name) {
    collaborators(first: 100, after: $after, affiliation: DIRECT) {
      pageInfo { hasNextPage endCursor }
      totalCount
      edges { permission node { login databaseId } }
    }
  }
}`,
};

/** Follow a connection through every page; `pick(data)` returns the connection. */
async function paginate(base, token, query, variables, pick) {
  const items = [];
  let after = null;
  let pages = 0;
  for (;;) {
    const r = await gql(base, token, query, Object.assign({}, variables, { after }));
    if (r.body.errors) throw new Error(JSON.stringify(r.body.errors));
    const c = pick(r.body.data);
    items.push(...(c.edges || c.nodes));
    pages++;
    if (!c.pageInfo.hasNextPage) break;
    after = c.pageInfo.endCursor;
  }
  return { items, pages };
}

module.exports = {
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
  SERVER,
};
