'use strict';
// Deterministic synthetic organizations for scale tests:
//   --generate repos=N,teams=N,members=N[,seed=S][,outside=N]
// The same parameters always give the same scenario (seeded PRNG).

function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function parseSpec(spec) {
  const out = { repos: 100, teams: 20, members: 200, seed: 1 };
  for (const part of String(spec || '').split(',')) {
    if (!part.trim()) continue;
    const [k, v] = part.split('=').map((s) => s.trim());
    if (!['repos', 'teams', 'members', 'seed', 'outside'].includes(k)) throw new Error(`--generate: unknown key ${k}`);
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--generate: ${k} must be a non-negative integer`);
    out[k] = n;
  }
  if (out.members < 1) throw new Error('--generate: members must be at least 1');
  return out;
}

const PERMS = [
  ['READ', 0.4],
  ['TRIAGE', 0.1],
  ['WRITE', 0.35],
  ['MAINTAIN', 0.1],
  ['ADMIN', 0.05],
];

function generate(spec) {
  const p = typeof spec === 'string' ? parseSpec(spec) : Object.assign(parseSpec(''), spec);
  const rnd = mulberry32(p.seed * 2654435761 + 12345);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1)); // inclusive
  const pick = (arr) => arr[Math.floor(rnd() * arr.length)];
  const perm = () => {
    let x = rnd();
    for (const [name, w] of PERMS) {
      if ((x -= w) < 0) return name;
    }
    return 'READ';
  };
  // k distinct items of arr (partial Fisher-Yates on an index array copy)
  const sample = (arr, k) => {
    k = Math.min(k, arr.length);
    if (k > arr.length / 4) {
      const idx = arr.map((_, i) => i);
      for (let i = 0; i < k; i++) {
        const j = i + Math.floor(rnd() * (idx.length - i));
        [idx[i], idx[j]] = [idx[j], idx[i]];
      }
      return idx.slice(0, k).map((i) => arr[i]);
    }
    const seen = new Set();
    const out = [];
    while (out.length < k) {
      const i = Math.floor(rnd() * arr.length);
      if (!seen.has(i)) {
        seen.add(i);
        out.push(arr[i]);
      }
    }
    return out;
  };

  // ---- users
  const users = [];
  for (let i = 1; i <= p.members; i++) {
    const login = `user-${i}`;
    const owner = i === 1 || rnd() < 0.02;
    users.push({ login, id: 100000 + i, tokens: [`ghp_gen_${login}`], org_role: owner ? 'ADMIN' : 'MEMBER' });
  }
  const members = users.slice();
  const outsideCount = p.outside != null ? p.outside : Math.max(2, Math.floor(p.members / 50));
  const outside = [];
  for (let i = 1; i <= outsideCount; i++) {
    const login = `outside-${i}`;
    const u = { login, id: 900000 + i, tokens: [`ghp_gen_${login}`], org_role: null };
    users.push(u);
    outside.push(u);
  }

  // ---- repositories
  const repos = [];
  for (let i = 1; i <= p.repos; i++) {
    const name = `repo-${String(i).padStart(5, '0')}`;
    const x = rnd();
    const files = { 'README.md': `# ${name}\n` };
    if (x < 0.8) files['pyproject.toml'] = `[project]\nname = "pkg-${i}"\nversion = "1.0.${i % 10}"\n`;
    else if (x < 0.88) files['pyproject.toml'] = `[tool.poetry]\nname = "poetry-pkg-${i}"\nversion = "0.1.0"\n`;
    else if (x < 0.9) files['pyproject.toml'] = `[project\nname = "broken-${i}"\n`;
    const b = rnd();
    const repo = {
      name,
      id: 300000 + i,
      archived: rnd() < 0.03,
      disabled: rnd() < 0.01,
      default_branch: b < 0.9 ? 'main' : b < 0.98 ? 'master' : 'trunk',
      files,
      collaborators: [],
    };
    let collaborators;
    if ((i === 1 || i === 2) && members.length >= 130) {
      collaborators = sample(members, 120).concat(sample(outside, 10));
    } else {
      const n = int(0, 3);
      collaborators = [];
      for (let k = 0; k < n; k++) collaborators.push(rnd() < 0.8 || !outside.length ? pick(members) : pick(outside));
    }
    const seen = new Set();
    for (const u of collaborators) {
      if (seen.has(u.login)) continue;
      seen.add(u.login);
      repo.collaborators.push({ login: u.login, permission: perm() });
    }
    repos.push(repo);
  }

  // ---- teams (trees up to depth 4)
  const teams = [];
  const depth = [];
  for (let i = 1; i <= p.teams; i++) {
    let parent = null;
    let d = 1;
    if (teams.length && rnd() < 0.6) {
      const candidates = [];
      for (let tries = 0; tries < 8 && !candidates.length; tries++) {
        const j = Math.floor(rnd() * teams.length);
        if (depth[j] < 4) candidates.push(j);
      }
      if (candidates.length) {
        parent = teams[candidates[0]].slug;
        d = depth[candidates[0]] + 1;
      }
    }
    const size = i === 1 ? 150 : i === 2 ? 250 : int(3, 30);
    const team = {
      slug: `team-${i}`,
      name: `Team ${i}`,
      id: 200000 + i,
      parent,
      members: sample(members, size).map((u) => ({ login: u.login, role: rnd() < 0.1 ? 'MAINTAINER' : 'MEMBER' })),
      repositories: sample(repos, i === 3 ? 130 : int(1, 20)).map((r) => ({ name: r.name, permission: perm() })),
    };
    teams.push(team);
    depth.push(d);
  }

  return {
    description: `Generated organization: repos=${p.repos}, teams=${p.teams}, members=${p.members}, seed=${p.seed}`,
    organization: { login: 'genorg', id: 9900, default_repository_permission: 'read' },
    server_token: 'ghp_generated_server_token',
    server_token_scopes: ['repo', 'read:org', 'admin:org'],
    users,
    teams,
    repositories: repos,
    config: { repo_pattern: '.*', repo_include_list: [], repo_exclude_list: [] },
  };
}

module.exports = { generate, parseSpec, mulberry32 };
