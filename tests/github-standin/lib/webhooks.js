'use strict';
// Webhook deliveries shaped from @octokit/webhooks-examples, signed the way
// GitHub signs them (X-Hub-Signature-256 / X-Hub-Signature).

const crypto = require('node:crypto');
const http = require('node:http');
const https = require('node:https');
const examples = require('@octokit/webhooks-examples');
const { nodeId } = require('./state');

const API = 'https://api.github.com';
const WEB = 'https://github.com';
const SUPPORTED = {
  organization: ['member_added', 'member_removed', 'member_invited', 'renamed', 'deleted'],
  membership: ['added', 'removed'],
  team: ['created', 'deleted', 'edited', 'added_to_repository', 'removed_from_repository'],
  member: ['added', 'removed', 'edited'],
  repository: ['created', 'deleted', 'archived', 'unarchived', 'renamed', 'edited', 'privatized', 'publicized', 'transferred'],
  push: [null],
};

function sign(secret, body) {
  return {
    sha256: `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`,
    sha1: `sha1=${crypto.createHmac('sha1', secret).update(body).digest('hex')}`,
  };
}

function synthId(s, base) {
  return base + (parseInt(crypto.createHash('sha1').update(s).digest('hex').slice(0, 7), 16) % 1000000);
}

function sha() {
  return crypto.randomBytes(20).toString('hex');
}

function userPayload(login, id) {
  return {
    login,
    id,
    node_id: nodeId('User', id),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url: `${API}/users/${login}`,
    html_url: `${WEB}/${login}`,
    followers_url: `${API}/users/${login}/followers`,
    following_url: `${API}/users/${login}/following{/other_user}`,
    gists_url: `${API}/users/${login}/gists{/gist_id}`,
    starred_url: `${API}/users/${login}/starred{/owner}{/repo}`,
    subscriptions_url: `${API}/users/${login}/subscriptions`,
    organizations_url: `${API}/users/${login}/orgs`,
    repos_url: `${API}/users/${login}/repos`,
    events_url: `${API}/users/${login}/events{/privacy}`,
    received_events_url: `${API}/users/${login}/received_events`,
    type: 'User',
    user_view_type: 'public',
    site_admin: false,
  };
}

function orgPayload(org) {
  const l = org.login;
  return {
    login: l,
    id: org.databaseId,
    node_id: org.nodeId,
    url: `${API}/orgs/${l}`,
    repos_url: `${API}/orgs/${l}/repos`,
    events_url: `${API}/orgs/${l}/events`,
    hooks_url: `${API}/orgs/${l}/hooks`,
    issues_url: `${API}/orgs/${l}/issues`,
    members_url: `${API}/orgs/${l}/members{/member}`,
    public_members_url: `${API}/orgs/${l}/public_members{/member}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${org.databaseId}?v=4`,
    description: org.description || '',
  };
}

function teamPayload(state, slug) {
  const t = state.team(slug);
  const org = state.org.login;
  const mk = (team) => {
    const id = team.databaseId;
    return {
      name: team.name,
      id,
      node_id: nodeId('Team', id),
      slug: team.slug,
      description: team.description || '',
      privacy: team.privacy === 'SECRET' ? 'secret' : 'closed',
      notification_setting: 'notifications_enabled',
      url: `${API}/organizations/${state.org.databaseId}/team/${id}`,
      html_url: `${WEB}/orgs/${org}/teams/${team.slug}`,
      members_url: `${API}/organizations/${state.org.databaseId}/team/${id}/members{/member}`,
      repositories_url: `${API}/organizations/${state.org.databaseId}/team/${id}/repos`,
      permission: 'pull',
    };
  };
  const team = t || { name: slug, slug, databaseId: synthId(`team:${slug}`, 7000000), privacy: 'VISIBLE', parent: null };
  const out = mk(team);
  out.parent = team.parent ? mk(team.parent) : null;
  return out;
}

// Rewrite the example repository object for a scenario repository.
function repoPayload(state, exampleRepo, name) {
  const r = state.repo(name);
  const org = state.org;
  const repo = r || {
    name,
    databaseId: synthId(`repo:${name}`, 6000000),
    isPrivate: true,
    isArchived: false,
    isDisabled: false,
    defaultBranch: 'main',
    description: null,
  };
  const oldOwner = exampleRepo.owner.login;
  const oldName = exampleRepo.name;
  const replace = (v) => {
    if (typeof v === 'string') {
      return v
        .split(`${oldOwner}/${oldName}`)
        .join(`${org.login}/${repo.name}`)
        .split(`/${oldOwner}`)
        .join(`/${org.login}`);
    }
    if (Array.isArray(v)) return v.map(replace);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x)]));
    return v;
  };
  const out = replace(exampleRepo);
  Object.assign(out, {
    id: repo.databaseId,
    node_id: nodeId('Repository', repo.databaseId),
    name: repo.name,
    full_name: `${org.login}/${repo.name}`,
    private: repo.isPrivate,
    visibility: repo.isPrivate ? 'private' : 'public',
    description: repo.description,
    fork: false,
    archived: repo.isArchived,
    disabled: repo.isDisabled,
    default_branch: repo.defaultBranch,
    owner: Object.assign(userPayload(org.login, org.databaseId), {
      node_id: org.nodeId,
      url: `${API}/users/${org.login}`,
      type: 'Organization',
    }),
  });
  if ('master_branch' in out) out.master_branch = repo.defaultBranch;
  if (!out.html_url) out.html_url = `${WEB}/${org.login}/${repo.name}`;
  return { payload: out, repo };
}

// GitHub's REST permission flags of a role (each role includes the lower ones),
// as in the `permissions` of a repository object.
const LEVELS = ['NONE', 'READ', 'TRIAGE', 'WRITE', 'MAINTAIN', 'ADMIN'];
const REST_NAMES = { PULL: 'READ', PUSH: 'WRITE' };
function permissionFlags(level) {
  const name = String(level || 'NONE').toUpperCase();
  const rank = LEVELS.indexOf(REST_NAMES[name] || name);
  return {
    admin: rank >= 5,
    maintain: rank >= 4,
    push: rank >= 3,
    triage: rank >= 2,
    pull: rank >= 1,
  };
}

// The role name GitHub uses in payloads ("read", "write", ...), null for none.
function roleName(level) {
  const l = String(level || 'NONE').toUpperCase();
  return l === 'NONE' ? null : l.toLowerCase();
}

// The permission a team holds on a repository in the scenario, 'NONE' without a grant.
function teamPermission(state, slug, name) {
  const team = state.team(slug);
  const grant = team && team.repoGrants.find((g) => g.node.name.toLowerCase() === String(name).toLowerCase());
  return grant ? grant.permission : 'NONE';
}

// A collaborator's direct permission on a repository in the scenario, 'NONE' without one.
function directPermission(state, login, name) {
  const repo = state.repo(name);
  const edge = repo && repo.directEdges.find((e) => e.node.login.toLowerCase() === String(login).toLowerCase());
  return edge ? edge.permission : 'NONE';
}

function userFor(state, login) {
  const u = login && state.user(login);
  if (u) return userPayload(u.login, u.databaseId);
  if (login) return userPayload(login, synthId(`user:${login}`, 5000000));
  return null;
}

/**
 * Build the payload for {event, payload_action, login, team, repository, ref,
 * sender, permission, old_permission, old_name, old_owner, modified} against
 * the scenario state.
 */
function buildPayload(state, req) {
  const event = req.event;
  if (!SUPPORTED[event]) throw new Error(`unsupported event ${JSON.stringify(event)}`);
  const action = event === 'push' ? null : req.payload_action || req.action || SUPPORTED[event][0];
  if (event !== 'push' && !SUPPORTED[event].includes(action)) {
    throw new Error(`unsupported action ${JSON.stringify(action)} for event ${event}`);
  }
  const group = examples.find((e) => e.name === event);
  const pool = group.examples;
  let ex =
    event === 'push'
      ? pool.find((e) => e.ref.startsWith('refs/heads/') && e.commits.length) || pool[0]
      : pool.find((e) => e.action === action && (event !== 'organization' || e.membership || !action.startsWith('member_'))) ||
        pool.find((e) => e.action === action) ||
        pool.find((e) => (event === 'organization' ? e.membership : e.repository || e.team || e.member)) ||
        pool[0];
  const p = JSON.parse(JSON.stringify(ex));
  delete p.installation;
  if (action) p.action = action;

  const org = state.org;
  const owner = state.members.find((u) => u.orgRole === 'ADMIN');
  p.sender = userFor(state, req.sender || (owner && owner.login) || 'server-bot');
  const target = userFor(state, req.login || (owner && owner.login) || 'octocat');
  const repoName = req.repository || (state.repos[0] && state.repos[0].name) || 'repo';
  const teamSlug = req.team || (state.teams[0] && state.teams[0].slug) || 'team';
  const exampleRepo = (pool.find((e) => e.repository) || examples.find((e) => e.name === 'repository').examples[0]).repository;

  switch (event) {
    case 'organization': {
      if (action === 'member_added' || action === 'member_removed') {
        const u = req.login && state.user(req.login);
        p.membership = {
          url: `${API}/orgs/${org.login}/memberships/${target.login}`,
          state: 'active',
          role: u && u.orgRole === 'ADMIN' ? 'admin' : 'member',
          organization_url: `${API}/orgs/${org.login}`,
          user: target,
        };
      } else if (action === 'member_invited') {
        p.user = target;
      }
      break;
    }
    case 'membership':
      p.scope = 'team';
      p.member = target;
      p.team = teamPayload(state, teamSlug);
      break;
    case 'team': {
      p.team = teamPayload(state, teamSlug);
      // An edit of the team's permission on a repository names the repository
      // and the old permission (changes.repository.permissions.from).
      const repositoryEdit = action === 'edited' && req.old_permission !== undefined;
      if (action === 'added_to_repository' || action === 'removed_from_repository' || repositoryEdit) {
        p.repository = repoPayload(state, exampleRepo, repoName).payload;
        // In team events the repository's permissions are the team's, after the change.
        const level = action === 'removed_from_repository' ? 'NONE' : teamPermission(state, teamSlug, repoName);
        p.repository.permissions = permissionFlags(level);
        p.repository.role_name = roleName(level);
      } else {
        delete p.repository;
      }
      if (action === 'edited') {
        // GitHub's schema: description, name, privacy, notification_setting,
        // repository.permissions.from; nothing describes a new parent.
        p.changes = {};
        if (repositoryEdit) {
          const from = permissionFlags(req.old_permission);
          p.changes.repository = { permissions: { from: { admin: from.admin, pull: from.pull, push: from.push } } };
        } else if (req.old_name) {
          p.changes.name = { from: req.old_name };
        }
      }
      break;
    }
    case 'member': {
      p.member = target;
      p.repository = repoPayload(state, exampleRepo, repoName).payload;
      if (action === 'edited') {
        // changes.old_permission.from is required; changes.permission.{from,to}
        // (nullable) carries the new role, here the scenario's direct permission.
        const from = req.old_permission || 'write';
        const to = req.permission || roleName(directPermission(state, target.login, repoName));
        p.changes = { old_permission: { from }, permission: { from, to } };
      } else if (action === 'added') {
        p.changes = { permission: { to: req.permission || 'write' } };
      } else {
        delete p.changes;
      }
      break;
    }
    case 'repository': {
      const { payload } = repoPayload(state, exampleRepo, repoName);
      if (action === 'archived') payload.archived = true;
      if (action === 'unarchived') payload.archived = false;
      p.repository = payload;
      if (action === 'renamed') p.changes = { repository: { name: { from: req.old_name || `${repoName}-old` } } };
      else if (action === 'transferred') {
        // Sent only to the new owner: the repository is the organization's
        // now, changes.owner.from names the account it came from.
        p.changes = { owner: { from: { user: userFor(state, req.old_owner || 'octocat') } } };
      } else if (action !== 'edited') delete p.changes;
      break;
    }
    case 'push': {
      const { payload, repo } = repoPayload(state, exampleRepo, repoName);
      p.repository = payload;
      p.ref = req.ref || `refs/heads/${repo.defaultBranch}`;
      p.before = sha();
      p.after = sha();
      const commitUrl = `${WEB}/${org.login}/${repo.name}/commit/${p.after}`;
      const who = { name: p.sender.login, email: `${p.sender.id}+${p.sender.login}@users.noreply.github.com`, username: p.sender.login };
      const commit = Object.assign(JSON.parse(JSON.stringify(ex.commits[0] || {})), {
        id: p.after,
        tree_id: sha(),
        distinct: true,
        message: req.message || 'Update pyproject.toml',
        timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        url: commitUrl,
        author: who,
        committer: who,
        added: req.added || [],
        removed: req.removed || [],
        modified: req.modified || ['pyproject.toml'],
      });
      p.commits = [commit];
      p.head_commit = commit;
      p.compare = `${WEB}/${org.login}/${repo.name}/compare/${p.before.slice(0, 12)}...${p.after.slice(0, 12)}`;
      p.pusher = { name: who.name, email: who.email };
      p.created = false;
      p.deleted = false;
      p.forced = false;
      p.base_ref = null;
      break;
    }
    default:
      break;
  }
  p.organization = orgPayload(org);
  return p;
}

/** Deliver: POST the payload to `url`. Resolves {status, delivery, elapsed_ms, ...}. */
function deliver(state, req) {
  if (!req || typeof req.url !== 'string') return Promise.reject(new Error('url is required'));
  if (typeof req.secret !== 'string') return Promise.reject(new Error('secret is required (may be empty)'));
  let payload;
  try {
    payload = req.payload && typeof req.payload === 'object' ? req.payload : buildPayload(state, req);
  } catch (e) {
    return Promise.reject(e);
  }
  const body = Buffer.from(typeof req.raw_body === 'string' ? req.raw_body : JSON.stringify(payload));
  const delivery = req.delivery || crypto.randomUUID();
  const sig = sign(req.secret, body);
  const headers = {
    'Content-Type': 'application/json',
    'Content-Length': String(body.length),
    'User-Agent': 'GitHub-Hookshot/abc123',
    Accept: '*/*',
    'X-GitHub-Event': req.event,
    'X-GitHub-Delivery': delivery,
    'X-GitHub-Hook-ID': String(req.hook_id || 424242),
    'X-GitHub-Hook-Installation-Target-ID': String(state.org.databaseId),
    'X-GitHub-Hook-Installation-Target-Type': 'organization',
    'X-Hub-Signature': sig.sha1,
    'X-Hub-Signature-256': sig.sha256,
  };
  if (req.signature_256 !== undefined) headers['X-Hub-Signature-256'] = req.signature_256; // tests of bad signatures
  const started = Date.now();
  const mod = req.url.startsWith('https:') ? https : http;
  return new Promise((resolve) => {
    const r = mod.request(req.url, { method: 'POST', headers, timeout: 10000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          delivery,
          elapsed_ms: Date.now() - started,
          event: req.event,
          action: payload.action || null,
          signature_256: headers['X-Hub-Signature-256'],
          response_body: Buffer.concat(chunks).toString('utf8').slice(0, 2000),
          payload,
        }),
      );
    });
    r.on('timeout', () => r.destroy(new Error('timed out after 10 s (GitHub gives up too)')));
    r.on('error', (e) =>
      resolve({ status: 0, error: e.message, delivery, elapsed_ms: Date.now() - started, event: req.event, payload }),
    );
    r.end(body);
  });
}

module.exports = { deliver, buildPayload, sign, SUPPORTED };
