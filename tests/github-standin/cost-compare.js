#!/usr/bin/env node
'use strict';
// Measures what the seed plugin's plan costs against a running stand-in:
// list the organization's repositories, then for every repository ask
// `collaborators(first: 100, affiliation: ALL)` (one repository per query,
// following every page). Prints {"requests": N, "points": P, ...} computed from
// the stand-in's own counters (GET /_standin/stats before and after).
//
// usage: node cost-compare.js --url http://127.0.0.1:PORT --token TOKEN
//                             [--prefix /api] [--org LOGIN] [--concurrency 8]
// Start the stand-in with a large --ratelimit-limit: the plan is expensive.

function parseArgs(argv) {
  const o = { prefix: '', concurrency: 8 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--url') o.url = v.replace(/\/+$/, '');
    else if (a === '--token') o.token = v;
    else if (a === '--prefix') o.prefix = v.replace(/\/+$/, '');
    else if (a === '--org') o.org = v;
    else if (a === '--concurrency') o.concurrency = Number(v);
    else throw new Error(`unknown argument ${a}`);
    i++;
  }
  if (!o.url || !o.token) throw new Error('usage: node cost-compare.js --url URL --token TOKEN [--prefix /api] [--org LOGIN] [--concurrency N]');
  return o;
}

const LIST = `query RepoNames($org: String!, $after: String) {
  organization(login: $org) {
    repositories(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { name }
    }
  }
}`;

const COLLABORATORS = `query RepoCollaborators($org: String!, $name: String!, $after: String) {
  rateLimit { cost remaining }
  repository(owner: $org, name: $name) {
    collaborators(first: 100, after: $after, affiliation: ALL) {
      pageInfo { hasNextPage endCursor }
      edges { permission node { login databaseId } }
    }
  }
}`;

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const gql = async (query, variables) => {
    const r = await fetch(`${o.url}${o.prefix}/graphql`, {
      method: 'POST',
      headers: { authorization: `bearer ${o.token}`, 'user-agent': 'ghaccess-cost-compare', 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const j = await r.json();
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${JSON.stringify(j)}`);
    if (j.errors && j.errors.some((e) => e.type === 'RATE_LIMITED')) {
      throw new Error('rate limited by the stand-in: start it with a larger --ratelimit-limit');
    }
    if (j.errors && !j.data) throw new Error(JSON.stringify(j.errors));
    return j;
  };
  const stats = async () => (await fetch(`${o.url}/_standin/stats`)).json();
  if (!o.org) o.org = (await (await fetch(`${o.url}/_standin/info`)).json()).organization;

  const before = await stats();
  const names = [];
  let after = null;
  let listing = 0;
  for (;;) {
    const j = await gql(LIST, { org: o.org, after });
    listing++;
    const c = j.data.organization.repositories;
    for (const n of c.nodes) names.push(n.name);
    if (!c.pageInfo.hasNextPage) break;
    after = c.pageInfo.endCursor;
  }
  let pages = 0;
  let forbidden = 0;
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++];
      let cur = null;
      for (;;) {
        const j = await gql(COLLABORATORS, { org: o.org, name, after: cur });
        pages++;
        const c = j.data.repository && j.data.repository.collaborators;
        if (!c) {
          forbidden++;
          break;
        }
        if (!c.pageInfo.hasNextPage) break;
        cur = c.pageInfo.endCursor;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, worker));
  const afterStats = await stats();
  process.stdout.write(
    `${JSON.stringify({
      requests: afterStats.graphql_requests - before.graphql_requests,
      points: afterStats.graphql_points - before.graphql_points,
      repositories: names.length,
      listing_requests: listing,
      collaborator_requests: pages,
      forbidden_repositories: forbidden,
    })}\n`,
  );
}

main().catch((e) => {
  process.stderr.write(`cost-compare: ${e.message}\n`);
  process.exit(1);
});
