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

// PermissionSource.permission is a DefaultRepositoryPermissionField (NONE,
// READ, WRITE, ADMIN): triage shows as READ, maintain as WRITE; roleName
// keeps the exact role.
const SOURCE_LEVEL = { READ: 'READ', TRIAGE: 'READ', WRITE: 'WRITE', MAINTAIN: 'WRITE', ADMIN: 'ADMIN' };

/*
 * "null_fields": ["Type.field", ...] on a scenario object: those fields of
 * that object (or of its edge) answer null. Only fields that GitHub's schema
 * declares nullable may be named, and only the types the object stands for.
 */
function nullFields(list, allowedTypes, where) {
  if (list === undefined || list === null) return null;
  if (!Array.isArray(list)) throw new Error(`${where}: null_fields must be an array of "Type.field" strings`);
  if (!list.length) return null;
  const { isNonNullType } = require('graphql');
  const schema = require('./schema').loadSchema();
  const out = new Set();
  for (const entry of list) {
    const m = typeof entry === 'string' ? /^(\w+)\.(\w+)$/.exec(entry) : null;
    if (!m) throw new Error(`${where}: null_fields entry ${JSON.stringify(entry)} is not "Type.field"`);
    if (!allowedTypes.includes(m[1])) {
      throw new Error(`${where}: null_fields ${entry}: this object stands for ${allowedTypes.join(', ')}`);
    }
    const type = schema.getType(m[1]);
    const field = type && type.getFields ? type.getFields()[m[2]] : null;
    if (!field) throw new Error(`${where}: null_fields ${entry}: no such field in GitHub's schema`);
    if (isNonNullType(field.type)) {
      throw new Error(`${where}: null_fields ${entry}: the schema says ${field.type}, GitHub never answers null there`);
    }
    out.add(entry);
  }
  return out;
}

// A file given as an object of Blob fields ("files": {"pyproject.toml":
// {"text": null, "isBinary": null}}): these are answered as given.
const BLOB_FIELDS = {
  text: (v) => v === null || typeof v === 'string',
  isBinary: (v) => v === null || typeof v === 'boolean',
  isTruncated: (v) => typeof v === 'boolean',
  byteSize: (v) => Number.isInteger(v) && v >= 0,
  oid: (v) => typeof v === 'string' && /^[0-9a-f]{40}$/.test(v),
  abbreviatedOid: (v) => typeof v === 'string',
};

function checkFiles(files, where) {
  if (files === undefined || files === null) return {};
  if (typeof files !== 'object' || Array.isArray(files)) throw new Error(`${where}: files must be an object`);
  for (const [path, value] of Object.entries(files)) {
    if (value === null || typeof value === 'string') continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(`${where}: files[${JSON.stringify(path)}] must be text, null or an object of Blob fields`);
    }
    for (const [k, v] of Object.entries(value)) {
      if (!BLOB_FIELDS[k]) throw new Error(`${where}: files[${JSON.stringify(path)}].${k} is not a modelled Blob field`);
      if (!BLOB_FIELDS[k](v)) throw new Error(`${where}: files[${JSON.stringify(path)}].${k}: invalid value ${JSON.stringify(v)}`);
    }
  }
  return files;
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
      _nulls: nullFields(org.null_fields, ['Organization'], 'organization'),
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
        _nulls: nullFields(u.null_fields, ['User', 'OrganizationMemberEdge'], `user ${u.login}`),
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
        _nulls: nullFields(t.null_fields, ['Team', 'TeamEdge'], `team ${t.slug}`),
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
        isTemplate: !!r.template,
        parentName: r.parent == null ? null : String(r.parent),
        defaultBranch: r.default_branch || 'main',
        files: checkFiles(r.files, `repository ${r.name}`),
        collaboratorsForbidden: !!r.collaborators_forbidden,
        description: r.description != null ? r.description : null,
        directEdges: [],
        teamGrants: [],
        index: this.repos.length,
        _blobs: new Map(),
        _nulls: nullFields(r.null_fields, ['Repository', 'RepositoryEdge'], `repository ${r.name}`),
      };
      if (repo.parentName !== null && !/^[\w.-]+\/[\w.-]+$/.test(repo.parentName)) {
        throw new Error(`repository ${r.name}: parent must be "owner/name"`);
      }
      repo.nodeId = nodeId('Repository', repo.databaseId);
      if (this.repoByName.has(repo.name.toLowerCase())) throw new Error(`duplicate repository ${repo.name}`);
      this.repos.push(repo);
      this.repoByName.set(repo.name.toLowerCase(), repo);
      const seen = new Set();
      for (const c of r.collaborators || []) {
        const user = this.userFor(c.login, `repository ${repo.name}`);
        if (seen.has(user)) continue;
        seen.add(user);
        repo.directEdges.push({
          permission: normPermission(c.permission, `repository ${repo.name}`),
          node: user,
          _nulls: nullFields(c.null_fields, ['RepositoryCollaboratorEdge', 'PermissionSource'],
            `repository ${repo.name} collaborator ${c.login}`),
        });
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
    this.memberEdges = this.members.map((u) => ({ role: u.orgRole, node: u, _nulls: u._nulls }));
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

  // Everybody with access to a repository and their highest permission:
  // owners (admin), base permission for members, teams (with descendant
  // members), direct grants.
  highestLevels(repo) {
    if (!repo._levels) {
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
      repo._levels = level;
    }
    return repo._levels;
  }

  // Members of a team and of its descendants, as a Set (cached).
  teamMemberSet(team) {
    if (!team._allSet) team._allSet = new Set(this.teamMemberEdges(team, 'ALL').map((e) => e.node));
    return team._allSet;
  }

  // One user's highest permission on a repository (what highestLevels
  // holds for everybody, without building it for every member).
  highestLevelFor(repo, user) {
    let level = null;
    if (user.orgRole === 'ADMIN') level = 'ADMIN';
    else if (user.orgRole) level = this.baseLevel;
    for (const g of repo.teamGrants) {
      if (this.teamMemberSet(g.team).has(user)) level = maxLevel(level, g.permission);
    }
    const direct = repo.directEdges.find((e) => e.node === user);
    return direct ? maxLevel(level, direct.permission) : level;
  }

  /*
   * Collaborator edges of a repository for an affiliation. The edge's
   * permission is the user's highest permission on the repository after
   * every source, whatever the affiliation (GitHub: RepositoryCollaboratorEdge
   * "The permission the user has on the repository"; REST role_name "the
   * highest role assigned to the collaborator after considering all sources
   * of grants"). DIRECT lists those with a direct grant, OUTSIDE those of
   * them that are not members, ALL everybody with access.
   */
  collaboratorEdges(repo, affiliation) {
    const key = affiliation === 'DIRECT' || affiliation === 'OUTSIDE' ? `_${affiliation}` : '_ALL';
    if (!repo[key]) {
      let out;
      if (key === '_ALL') {
        const level = this.highestLevels(repo);
        const direct = new Map(repo.directEdges.map((e) => [e.node, e]));
        out = [];
        for (const [node, permission] of level) {
          const d = direct.get(node);
          out.push({ permission, node, repo, _nulls: d ? d._nulls : null });
        }
        out.sort((a, b) => a.node.index - b.node.index);
      } else {
        out = repo.directEdges
          .filter((e) => key === '_DIRECT' || !this.isMember(e.node))
          .map((e) => ({ permission: this.highestLevelFor(repo, e.node), node: e.node, repo, _nulls: e._nulls }));
      }
      repo[key] = out;
    }
    return repo[key];
  }

  /*
   * Where a user's access to a repository comes from
   * (RepositoryCollaboratorEdge.permissionSources): the organization (owner:
   * ADMIN; base permission), every team whose grant reaches the user
   * (directly or through a child team), and the repository itself for a
   * direct grant.
   */
  permissionSources(repo, user) {
    const out = [];
    const source = (src, level) => ({
      __typename: 'PermissionSource',
      permission: SOURCE_LEVEL[level],
      roleName: level.toLowerCase(),
      source: src,
      organization: this.org,
    });
    if (user.orgRole === 'ADMIN') out.push(source(this.org, 'ADMIN'));
    else if (user.orgRole && this.baseLevel) out.push(source(this.org, this.baseLevel));
    for (const g of repo.teamGrants) {
      if (this.teamMemberSet(g.team).has(user)) out.push(source(g.team, g.permission));
    }
    const direct = repo.directEdges.find((e) => e.node === user);
    if (direct) {
      const s = source(repo, direct.permission);
      s._nulls = direct._nulls;
      out.push(s);
    }
    return out;
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

  // The blob at `path` in the default branch, or null. A file given as
  // text is a text blob; null is a binary file; an object of Blob fields is
  // answered as given, the fields it leaves out computed as for its text.
  blob(repo, path) {
    if (!Object.prototype.hasOwnProperty.call(repo.files, path)) return null;
    if (!repo._blobs.has(path)) {
      const given = repo.files[path];
      const fields = given !== null && typeof given === 'object' ? given : null;
      const text = fields ? (fields.text === undefined ? null : fields.text) : given;
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
      const blob = {
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
      };
      if (fields) Object.assign(blob, fields);
      repo._blobs.set(path, blob);
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

module.exports = { State, nodeId, gitBlobSha, LEVELS, LEVEL_RANK, SOURCE_LEVEL, maxLevel, normPermission };
