'use strict';
// The organization state served by the stand-in, built from a scenario JSON
// (see tests/scenarios/README.md). Everything the GraphQL resolvers and the REST
// handlers need is indexed here once, so a page of a 10,000-repository
// organization is answered without scanning the scenario.

const crypto = require('node:crypto');

const LEVELS = ['READ', 'TRIAGE', 'WRITE', 'MAINTAIN', 'ADMIN'];
const LEVEL_RANK = Object.fromEntries(LEVELS.map((l, i) => [l, i + 1]));
const BASE_TO_LEVEL = { none: null, read: 'READ', write: 'WRITE', admin: 'ADMIN' };

function nodeId(typeTag, id) {
  // GitHub's legacy global node ids: base64("0<len>:<Type><id>"), e.g.
  // "04:User1" -> MDQ6VXNlcjE=, "012:Organization1" -> MDEyOk9yZ2FuaXphdGlvbjE=.
  return Buffer.from(`0${typeTag.length}:${typeTag}${id}`).toString('base64');
}

function gitBlobSha(buf) {
  const h = crypto.createHash('sha1');
  h.update(`blob ${buf.length}\0`);
  h.update(buf);
  return h.digest('hex');
}

function normPermission(p, where) {
  const v = String(p || '').toUpperCase();
  // REST spellings accepted too (pull/push/triage/maintain/admin).
  const alias = { PULL: 'READ', PUSH: 'WRITE' };
  const out = alias[v] || v;
  if (!LEVEL_RANK[out]) throw new Error(`invalid permission ${JSON.stringify(p)} in ${where}`);
  return out;
}

function maxLevel(a, b) {
  if (!a) return b;
  if (!b) return a;
  return LEVEL_RANK[a] >= LEVEL_RANK[b] ? a : b;
}

class State {
  constructor(scenario) {
    if (!scenario || typeof scenario !== 'object') throw new Error('scenario must be a JSON object');
    const org = scenario.organization;
    if (!org || typeof org.login !== 'string' || !org.login) throw new Error('scenario.organization.login is required');
    this.scenario = scenario;
    this.org = {
      __typename: 'Organization',
      login: org.login,
      databaseId: Number.isInteger(org.id) ? org.id : 9000,
      name: org.name != null ? org.name : org.login,
      description: org.description != null ? org.description : null,
      default_repository_permission:
        org.default_repository_permission === undefined ? 'read' : org.default_repository_permission,
      created_at: org.created_at || '2015-01-01T00:00:00Z',
      // SAML SSO enforced: user tokens in users[].tokens_without_sso are
      // refused by the organization's resources (README, "SAML SSO").
      samlSso: org.saml_sso === true,
    };
    this.org.nodeId = nodeId('Organization', this.org.databaseId);
    this.serverToken = scenario.server_token || null;
    this.serverTokenScopes = Array.isArray(scenario.server_token_scopes)
      ? scenario.server_token_scopes.slice()
      : ['repo', 'read:org', 'admin:org'];

    // ---- users
    this.users = [];
    this.userByLogin = new Map(); // lower-case login -> user
    this.userByToken = new Map();
    this.tokensWithoutSso = new Set(); // user tokens not authorized for the org's SAML SSO
    let nextSynthId = 8000000;
    const addUser = (u, synthetic) => {
      const user = {
        __typename: 'User',
        login: u.login,
        databaseId: Number.isInteger(u.id) ? u.id : nextSynthId++,
        name: u.name != null ? u.name : null,
        email: u.email != null ? u.email : '',
        orgRole: u.org_role === 'ADMIN' || u.org_role === 'MEMBER' ? u.org_role : null,
        tokens: Array.isArray(u.tokens) ? u.tokens.slice() : [],
        tokenExpiration: u.token_expiration || '2027-10-12 09:00:00 UTC',
        // An invitation not yet accepted (users without org_role only):
        // GET /user/memberships/orgs/{org} answers state "pending".
        invited: u.membership_state === 'pending' && !(u.org_role === 'ADMIN' || u.org_role === 'MEMBER'),
        synthetic: !!synthetic,
        index: this.users.length,
      };
      user.nodeId = nodeId('User', user.databaseId);
      this.users.push(user);
      this.userByLogin.set(user.login.toLowerCase(), user);
      for (const t of user.tokens) this.userByToken.set(t, user);
      // Tokens GET /user accepts (they are the user's) but that the
      // organization's resources refuse until authorized for SAML SSO.
      for (const t of Array.isArray(u.tokens_without_sso) ? u.tokens_without_sso : []) {
        if (typeof t !== 'string' || !t) throw new Error(`user ${u.login}: tokens_without_sso must hold strings`);
        this.userByToken.set(t, user);
        this.tokensWithoutSso.add(t);
      }
      return user;
    };
    for (const u of scenario.users || []) {
      if (!u || typeof u.login !== 'string') throw new Error('every user needs a login');
      if (this.userByLogin.has(u.login.toLowerCase())) throw new Error(`duplicate user ${u.login}`);
      addUser(u, false);
    }
    // A login named by a team or a grant but missing from users[] becomes a
    // non-member account so the scenario still loads.
    this.userFor = (login, where) => {
      if (typeof login !== 'string' || !login) throw new Error(`missing login in ${where}`);
      return this.userByLogin.get(login.toLowerCase()) || addUser({ login, org_role: null }, true);
    };

    // ---- teams
    this.teams = [];
    this.teamBySlug = new Map(); // lower-case slug -> team
    for (const t of scenario.teams || []) {
      if (!t || typeof t.slug !== 'string') throw new Error('every team needs a slug');
      const team = {
        __typename: 'Team',
        slug: t.slug,
        name: t.name != null ? t.name : t.slug,
        databaseId: Number.isInteger(t.id) ? t.id : 7000000 + this.teams.length,
        description: t.description != null ? t.description : null,
        privacy: String(t.privacy || 'VISIBLE').toUpperCase() === 'SECRET' ? 'SECRET' : 'VISIBLE',
        parentSlug: t.parent || null,
        parent: null,
        children: [],
        memberEdges: [],
        repoGrants: [],
        index: this.teams.length,
        _raw: t,
      };
      team.nodeId = nodeId('Team', team.databaseId);
      if (this.teamBySlug.has(team.slug.toLowerCase())) throw new Error(`duplicate team ${team.slug}`);
      this.teams.push(team);
      this.teamBySlug.set(team.slug.toLowerCase(), team);
    }
    for (const team of this.teams) {
      if (team.parentSlug) {
        const p = this.teamBySlug.get(String(team.parentSlug).toLowerCase());
        if (!p) throw new Error(`team ${team.slug}: unknown parent ${team.parentSlug}`);
        team.parent = p;
        p.children.push(team);
      }
    }
    for (const team of this.teams) {
      // cycle check
      const seen = new Set();
      for (let t = team; t; t = t.parent) {
        if (seen.has(t)) throw new Error(`team nesting cycle at ${team.slug}`);
        seen.add(t);
      }
      const seenMembers = new Set();
      for (const m of team._raw.members || []) {
        const user = this.userFor(m.login, `team ${team.slug}`);
        if (seenMembers.has(user)) continue;
        seenMembers.add(user);
        const role = String(m.role || 'MEMBER').toUpperCase() === 'MAINTAINER' ? 'MAINTAINER' : 'MEMBER';
        team.memberEdges.push({ role, node: user });
      }
    }

    // ---- repositories
    this.repos = [];
    this.repoByName = new Map();
    for (const r of scenario.repositories || []) {
      if (!r || typeof r.name !== 'string') throw new Error('every repository needs a name');
      const repo = {
        __typename: 'Repository',
        name: r.name,
        databaseId: Number.isInteger(r.id) ? r.id : 6000000 + this.repos.length,
        isArchived: !!r.archived,
        isDisabled: !!r.disabled,
        isPrivate: r.private === undefined ? true : !!r.private,
        isFork: !!r.fork,
        defaultBranch: r.default_branch || 'main',
        files: r.files && typeof r.files === 'object' ? r.files : {},
        collaboratorsForbidden: !!r.collaborators_forbidden,
        description: r.description != null ? r.description : null,
        directEdges: [],
        teamGrants: [],
        index: this.repos.length,
        _blobs: new Map(),
        _all: null,
      };
      repo.nodeId = nodeId('Repository', repo.databaseId);
      if (this.repoByName.has(repo.name.toLowerCase())) throw new Error(`duplicate repository ${repo.name}`);
      this.repos.push(repo);
      this.repoByName.set(repo.name.toLowerCase(), repo);
      const seen = new Set();
      for (const c of r.collaborators || []) {
        const user = this.userFor(c.login, `repository ${repo.name}`);
        if (seen.has(user)) continue;
        seen.add(user);
        repo.directEdges.push({ permission: normPermission(c.permission, `repository ${repo.name}`), node: user });
      }
    }
    for (const team of this.teams) {
      const seen = new Set();
      for (const g of team._raw.repositories || []) {
        const repo = this.repoByName.get(String(g.name).toLowerCase());
        if (!repo) throw new Error(`team ${team.slug}: unknown repository ${g.name}`);
        if (seen.has(repo)) continue;
        seen.add(repo);
        const permission = normPermission(g.permission, `team ${team.slug}`);
        team.repoGrants.push({ permission, node: repo });
        repo.teamGrants.push({ team, permission });
      }
      delete team._raw;
    }

    this.members = this.users.filter((u) => u.orgRole);
    this.memberEdges = this.members.map((u) => ({ role: u.orgRole, node: u }));
    this._sorted = new Map();
  }

  get baseLevel() {
    return BASE_TO_LEVEL[this.org.default_repository_permission] || null;
  }

  isMember(user) {
    return !!user.orgRole;
  }

  user(login) {
    return typeof login === 'string' ? this.userByLogin.get(login.toLowerCase()) || null : null;
  }

  team(slug) {
    return typeof slug === 'string' ? this.teamBySlug.get(slug.toLowerCase()) || null : null;
  }

  repo(name) {
    return typeof name === 'string' ? this.repoByName.get(name.toLowerCase()) || null : null;
  }

  isOrg(login) {
    return typeof login === 'string' && login.toLowerCase() === this.org.login.toLowerCase();
  }

  // Descendant teams (children, grandchildren, ...), excluding the team itself.
  descendants(team) {
    if (!team._descendants) {
      const out = [];
      const walk = (t) => {
        for (const c of t.children) {
          out.push(c);
          walk(c);
        }
      };
      walk(team);
      team._descendants = out;
    }
    return team._descendants;
  }

  ancestors(team) {
    const out = [];
    for (let t = team.parent; t; t = t.parent) out.push(t);
    return out;
  }

  // Team members for membership IMMEDIATE | CHILD_TEAM | ALL.
  teamMemberEdges(team, membership) {
    if (membership === 'IMMEDIATE') return team.memberEdges;
    const key = membership === 'CHILD_TEAM' ? '_childEdges' : '_allEdges';
    if (!team[key]) {
      const seen = new Set();
      const out = [];
      if (membership !== 'CHILD_TEAM') {
        for (const e of team.memberEdges) {
          seen.add(e.node);
          out.push(e);
        }
      }
      const immediate = new Set(team.memberEdges.map((e) => e.node));
      for (const d of this.descendants(team)) {
        for (const e of d.memberEdges) {
          if (seen.has(e.node)) continue;
          if (membership === 'CHILD_TEAM' && immediate.has(e.node)) continue;
          seen.add(e.node);
          out.push({ role: 'MEMBER', node: e.node });
        }
      }
      team[key] = out;
    }
    return team[key];
  }

  // Collaborator edges of a repository for an affiliation.
  collaboratorEdges(repo, affiliation) {
    if (affiliation === 'DIRECT') return repo.directEdges;
    if (affiliation === 'OUTSIDE') {
      if (!repo._outside) repo._outside = repo.directEdges.filter((e) => !this.isMember(e.node));
      return repo._outside;
    }
    if (!repo._all) {
      // Everybody with access and their highest permission: owners (admin),
      // base permission for members, teams (with descendant members), direct.
      const level = new Map();
      const base = this.baseLevel;
      for (const u of this.members) {
        if (u.orgRole === 'ADMIN') level.set(u, 'ADMIN');
        else if (base) level.set(u, base);
      }
      for (const g of repo.teamGrants) {
        for (const e of this.teamMemberEdges(g.team, 'ALL')) {
          level.set(e.node, maxLevel(level.get(e.node), g.permission));
        }
      }
      for (const e of repo.directEdges) level.set(e.node, maxLevel(level.get(e.node), e.permission));
      const out = [];
      for (const [node, permission] of level) out.push({ permission, node });
      out.sort((a, b) => a.node.index - b.node.index);
      repo._all = out;
    }
    return repo._all;
  }

  // Organization repositories in a given order (cached).
  sortedRepos(field, direction) {
    const key = `${field}:${direction}`;
    if (!this._sorted.has(key)) {
      const list = this.repos.slice();
      const cmp = {
        NAME: (a, b) => {
          const x = a.name.toLowerCase();
          const y = b.name.toLowerCase();
          return x < y ? -1 : x > y ? 1 : a.databaseId - b.databaseId;
        },
        CREATED_AT: (a, b) => a.databaseId - b.databaseId,
        UPDATED_AT: (a, b) => a.databaseId - b.databaseId,
        PUSHED_AT: (a, b) => a.databaseId - b.databaseId,
        STARGAZERS: (a, b) => a.databaseId - b.databaseId,
      }[field] || ((a, b) => a.index - b.index);
      list.sort(cmp);
      if (direction === 'DESC') list.reverse();
      this._sorted.set(key, list);
    }
    return this._sorted.get(key);
  }

  // The blob at `path` in the default branch, or null.
  blob(repo, path) {
    if (!Object.prototype.hasOwnProperty.call(repo.files, path)) return null;
    if (!repo._blobs.has(path)) {
      const text = repo.files[path];
      let buf;
      let isBinary = false;
      if (text === null) {
        isBinary = true;
        // Deterministic stand-in bytes for a binary file.
        buf = Buffer.concat([Buffer.from([0, 1, 2, 0xff, 0xfe, 0]), Buffer.from(`${repo.name}/${path}`)]);
      } else {
        buf = Buffer.from(String(text), 'utf8');
      }
      const truncated = !isBinary && buf.length > 512 * 1024;
      const oid = gitBlobSha(buf);
      repo._blobs.set(path, {
        __typename: 'Blob',
        oid,
        abbreviatedOid: oid.slice(0, 7),
        byteSize: buf.length,
        isBinary,
        isTruncated: truncated,
        text: isBinary || truncated ? null : String(text),
        repo,
        path,
        nodeId: nodeId('Blob', `${repo.databaseId}:${oid}`),
      });
    }
    return repo._blobs.get(path);
  }

  blobByOid(repo, oid) {
    for (const path of Object.keys(repo.files)) {
      const b = this.blob(repo, path);
      if (b && b.oid === oid) return b;
    }
    return null;
  }
}

module.exports = { State, nodeId, gitBlobSha, LEVELS, LEVEL_RANK, maxLevel, normPermission };
