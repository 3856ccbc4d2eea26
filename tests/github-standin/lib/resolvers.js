'use strict';
// Field resolvers over the scenario state (lib/state.js). graphql-js calls
// `fieldResolver` for every field of GitHub's schema; a field listed in
// RESOLVERS is computed, any other field reads the property of the same name
// from the source object (so unsupported fields answer null).

const crypto = require('node:crypto');
const { isNonNullType, isListType, isEnumType, isScalarType, isObjectType } = require('graphql');
const { nodeId, LEVEL_RANK } = require('./state');

// ---------- errors in GitHub's shape

class GhError extends Error {
  constructor(type, message, extensions) {
    super(message);
    this.ghType = type;
    this.ghExtensions = extensions;
  }
}

const FORBIDDEN_COLLABORATORS = 'Must have push access to view repository collaborators.';

// ---------- cursors and connections

const CURSOR_PREFIX = 'cursor:v2:';

function encodeCursor(index) {
  return Buffer.from(CURSOR_PREFIX + index).toString('base64');
}

function decodeCursor(cursor) {
  const s = typeof cursor === 'string' ? Buffer.from(cursor, 'base64').toString('utf8') : '';
  const n = s.startsWith(CURSOR_PREFIX) ? Number(s.slice(CURSOR_PREFIX.length)) : NaN;
  if (!Number.isInteger(n) || n < 0 || encodeCursor(n) !== cursor) {
    throw new GhError('INVALID_CURSOR_ARGUMENTS', `\`${cursor}\` does not appear to be a valid cursor.`);
  }
  return n;
}

/**
 * Slice `list` (edge objects: {node, ...edge fields}) by first/last/after/before
 * and build a connection object. Cursors encode the position in `list`.
 * `toEdge`, when given, turns an item of `list` into its edge object: only
 * the page's items are turned, so a page of a long list costs the page,
 * not the list (100,000 repositories, 1,000 pages).
 */
function connection(typename, list, args, extra, toEdge) {
  let start = 0;
  let end = list.length;
  if (args.after != null) start = Math.min(list.length, decodeCursor(args.after) + 1);
  if (args.before != null) end = Math.min(end, decodeCursor(args.before));
  if (end < start) end = start;
  if (args.first != null && end - start > args.first) end = start + args.first;
  if (args.last != null && end - start > args.last) start = end - args.last;
  const edges = [];
  for (let i = start; i < end; i++) {
    edges.push(Object.assign({ cursor: encodeCursor(i) }, toEdge ? toEdge(list[i]) : list[i]));
  }
  // An item whose edge answers node: null (null_fields "XEdge.node") is
  // null in the nodes list too.
  const edgeType = typename.replace(/Connection$/, 'Edge');
  const nodeOf = (e) => (e._nulls && e._nulls.has(`${edgeType}.node`) ? null : e.node);
  return Object.assign(
    {
      __typename: typename,
      totalCount: list.length,
      edges,
      nodes: edges.map(nodeOf),
      pageInfo: {
        __typename: 'PageInfo',
        hasNextPage: end < list.length,
        hasPreviousPage: start > 0,
        startCursor: edges.length ? edges[0].cursor : null,
        endCursor: edges.length ? edges[edges.length - 1].cursor : null,
      },
    },
    extra || {},
  );
}

// A node as an edge without edge fields (connection's toEdge).
function asEdge(node) {
  return { node, _nulls: node._nulls || null };
}

function containsCI(hay, needle) {
  return String(hay).toLowerCase().includes(String(needle).toLowerCase());
}

// ---------- helpers

const EPOCH = Date.UTC(2015, 0, 1);

function isoFromId(id) {
  // Stable synthetic timestamps derived from database ids.
  return new Date(EPOCH + (Number(id) % 100000000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function canSeeTeam(ctx, team) {
  return team.privacy !== 'SECRET' || ctx.scopes.has('read:org');
}

function hasRepoScope(ctx) {
  return ctx.scopes.has('repo');
}

function refObject(repo) {
  return {
    __typename: 'Ref',
    repo,
    name: repo.defaultBranch,
    prefix: 'refs/heads/',
  };
}

function commitObject(repo) {
  const oid = crypto.createHash('sha1').update(`commit:${repo.name}:${repo.defaultBranch}`).digest('hex');
  return { __typename: 'Commit', repo, oid };
}

function resolveExpression(ctx, repo, expression) {
  const s = String(expression);
  const colon = s.indexOf(':');
  const rev = colon < 0 ? s : s.slice(0, colon);
  const validRev = rev === 'HEAD' || rev === repo.defaultBranch || rev === `refs/heads/${repo.defaultBranch}`;
  if (!validRev) return null;
  if (colon < 0) return commitObject(repo);
  let p = s.slice(colon + 1).replace(/^\/+/, '');
  if (p === '') return null; // a tree; not modelled
  return ctx.state.blob(repo, p);
}

function viewerPermission(ctx, repo) {
  if (ctx.principal.kind !== 'user') return 'ADMIN';
  const e = ctx.state.collaboratorEdges(repo, 'ALL').find((x) => x.node === ctx.principal.user);
  return e ? e.permission : null;
}

function notFound(message) {
  return new GhError('NOT_FOUND', message);
}

// ---------- resolvers: "Type.field" -> (source, args, ctx, info)

const RESOLVERS = {
  // ----- Query
  'Query.rateLimit': (_s, _a, ctx) => ctx.rateLimit,
  'Query.organization': (_s, { login }, ctx) => {
    if (ctx.state.isOrg(login)) return ctx.state.org;
    throw notFound(`Could not resolve to an Organization with the login of '${login}'.`);
  },
  'Query.repository': (_s, { owner, name }, ctx) => {
    const repo = ctx.state.isOrg(owner) ? ctx.state.repo(name) : null;
    if (repo) return repo;
    throw notFound(`Could not resolve to a Repository with the name '${owner}/${name}'.`);
  },
  'Query.repositoryOwner': (_s, { login }, ctx) =>
    ctx.state.isOrg(login) ? ctx.state.org : ctx.state.user(login),
  'Query.user': (_s, { login }, ctx) => {
    const u = ctx.state.user(login);
    if (u) return u;
    throw notFound(`Could not resolve to a User with the login of '${login}'.`);
  },
  'Query.viewer': (_s, _a, ctx) => {
    if (ctx.principal.user) return ctx.principal.user;
    throw new GhError('FORBIDDEN', 'Resource not accessible by integration');
  },
  'Query.node': (_s, { id }, ctx) => lookupNode(ctx, id),
  'Query.nodes': (_s, { ids }, ctx) => ids.map((id) => lookupNode(ctx, id)),

  // ----- RateLimit: plain object from ctx.rateLimit

  // ----- Organization
  'Organization.id': (o) => o.nodeId,
  'Organization.url': (o) => `https://github.com/${o.login}`,
  'Organization.resourcePath': (o) => `/${o.login}`,
  'Organization.avatarUrl': (o) => `https://avatars.githubusercontent.com/u/${o.databaseId}?v=4`,
  'Organization.createdAt': (o) => o.created_at,
  'Organization.updatedAt': (o) => o.created_at,
  'Organization.viewerIsAMember': (_o, _a, ctx) => !ctx.principal.user || !!ctx.principal.user.orgRole,
  'Organization.viewerCanAdminister': (_o, _a, ctx) =>
    ctx.principal.kind !== 'user' ? ctx.scopes.has('admin:org') : ctx.principal.user.orgRole === 'ADMIN',
  'Organization.membersWithRole': (_o, args, ctx) =>
    connection('OrganizationMemberConnection', ctx.state.memberEdges, args),
  'Organization.teams': (_o, args, ctx) => {
    let list = ctx.state.teams.filter((t) => canSeeTeam(ctx, t));
    if (args.privacy) list = list.filter((t) => t.privacy === args.privacy);
    if (args.rootTeamsOnly) list = list.filter((t) => !t.parent);
    if (args.query) list = list.filter((t) => containsCI(t.name, args.query) || containsCI(t.slug, args.query));
    if (args.userLogins && args.userLogins.length) {
      const users = new Set(args.userLogins.map((l) => ctx.state.user(l)).filter(Boolean));
      list = list.filter((t) => t.memberEdges.some((e) => users.has(e.node)));
    }
    if (args.orderBy) list = sortTeams(list, args.orderBy);
    return connection('TeamConnection', list, args, null, asEdge);
  },
  'Organization.team': (_o, { slug }, ctx) => {
    const t = ctx.state.team(slug);
    return t && canSeeTeam(ctx, t) ? t : null;
  },
  'Organization.repositories': (_o, args, ctx) => {
    const order = args.orderBy || {};
    let list = ctx.state.sortedRepos(order.field || 'DEFAULT', order.direction || 'ASC');
    if (args.privacy) list = list.filter((r) => (args.privacy === 'PRIVATE') === r.isPrivate);
    if (args.visibility) list = list.filter((r) => (r.isPrivate ? 'PRIVATE' : 'PUBLIC') === args.visibility);
    if (args.isArchived != null) list = list.filter((r) => r.isArchived === args.isArchived);
    if (args.isFork != null) list = list.filter((r) => r.isFork === args.isFork);
    return connection('RepositoryConnection', list, args, { totalDiskUsage: 0 }, asEdge);
  },
  'Organization.repository': (o, { name }, ctx) => {
    const repo = ctx.state.repo(name);
    if (repo) return repo;
    throw notFound(`Could not resolve to a Repository with the name '${o.login}/${name}'.`);
  },

  // ----- Team
  'Team.id': (t) => t.nodeId,
  'Team.combinedSlug': (t, _a, ctx) => `${ctx.state.org.login}/${t.slug}`,
  'Team.url': (t, _a, ctx) => `https://github.com/orgs/${ctx.state.org.login}/teams/${t.slug}`,
  'Team.resourcePath': (t, _a, ctx) => `/orgs/${ctx.state.org.login}/teams/${t.slug}`,
  'Team.organization': (_t, _a, ctx) => ctx.state.org,
  'Team.parentTeam': (t) => t.parent,
  'Team.createdAt': (t) => isoFromId(t.databaseId),
  'Team.updatedAt': (t) => isoFromId(t.databaseId),
  'Team.members': (t, args, ctx) => {
    let list = ctx.state.teamMemberEdges(t, args.membership || 'ALL');
    if (args.role) list = list.filter((e) => e.role === args.role);
    if (args.query) list = list.filter((e) => containsCI(e.node.login, args.query) || containsCI(e.node.name || '', args.query));
    if (args.orderBy && args.orderBy.field === 'LOGIN') {
      list = list.slice().sort((a, b) => cmpStr(a.node.login, b.node.login));
      if (args.orderBy.direction === 'DESC') list.reverse();
    }
    return connection('TeamMemberConnection', list, args);
  },
  'Team.repositories': (t, args, ctx) => {
    let list = t.repoGrants;
    if (args.query) list = list.filter((e) => containsCI(e.node.name, args.query));
    if (args.orderBy) {
      const f = args.orderBy.field;
      list = list.slice().sort((a, b) =>
        f === 'NAME'
          ? cmpStr(a.node.name, b.node.name)
          : f === 'PERMISSION'
            ? LEVEL_RANK[a.permission] - LEVEL_RANK[b.permission]
            : a.node.databaseId - b.node.databaseId,
      );
      if (args.orderBy.direction === 'DESC') list.reverse();
    }
    return connection('TeamRepositoryConnection', list, args);
  },
  'Team.childTeams': (t, args, ctx) => {
    let list = args.immediateOnly === false ? ctx.state.descendants(t) : t.children;
    list = list.filter((x) => canSeeTeam(ctx, x));
    if (args.userLogins && args.userLogins.length) {
      const users = new Set(args.userLogins.map((l) => ctx.state.user(l)).filter(Boolean));
      list = list.filter((x) => x.memberEdges.some((e) => users.has(e.node)));
    }
    if (args.orderBy) list = sortTeams(list, args.orderBy);
    return connection('TeamConnection', list, args, null, asEdge);
  },
  'Team.ancestors': (t, args, ctx) => connection('TeamConnection', ctx.state.ancestors(t), args, null, asEdge),

  // ----- Repository
  'Repository.id': (r) => r.nodeId,
  'Repository.owner': (r, _a, ctx) =>
    r.external ? { __typename: 'Organization', login: r.owner, databaseId: null } : ctx.state.org,
  'Repository.nameWithOwner': (r, _a, ctx) => (r.external ? r.nameWithOwner : `${ctx.state.org.login}/${r.name}`),
  'Repository.url': (r, _a, ctx) =>
    `https://github.com/${r.external ? r.nameWithOwner : `${ctx.state.org.login}/${r.name}`}`,
  'Repository.resourcePath': (r, _a, ctx) => `/${r.external ? r.nameWithOwner : `${ctx.state.org.login}/${r.name}`}`,
  'Repository.visibility': (r) => (r.isPrivate ? 'PRIVATE' : 'PUBLIC'),
  'Repository.isTemplate': (r) => r.isTemplate,
  'Repository.parent': (r) => (r.parentName ? externalRepository(r.parentName) : null),
  'Repository.isMirror': () => false,
  'Repository.isLocked': () => false,
  'Repository.isEmpty': (r) => Object.keys(r.files).length === 0,
  'Repository.isInOrganization': () => true,
  'Repository.createdAt': (r) => isoFromId(r.databaseId),
  'Repository.updatedAt': (r) => isoFromId(r.databaseId),
  'Repository.pushedAt': (r) => isoFromId(r.databaseId),
  'Repository.defaultBranchRef': (r) => refObject(r),
  'Repository.viewerPermission': (r, _a, ctx) => viewerPermission(ctx, r),
  'Repository.object': (r, args, ctx) => {
    if (!hasRepoScope(ctx) && r.isPrivate) return null;
    if (args.expression != null) return resolveExpression(ctx, r, args.expression);
    if (args.oid != null) return ctx.state.blobByOid(r, args.oid);
    return null;
  },
  'Repository.collaborators': (r, args, ctx) => {
    if (!hasRepoScope(ctx) || r.collaboratorsForbidden || ctx.partialFault) {
      throw new GhError('FORBIDDEN', FORBIDDEN_COLLABORATORS, { saml_failure: false });
    }
    let list = ctx.state.collaboratorEdges(r, args.affiliation || 'ALL');
    if (args.login) list = list.filter((e) => e.node.login.toLowerCase() === String(args.login).toLowerCase());
    if (args.query) list = list.filter((e) => containsCI(e.node.login, args.query) || containsCI(e.node.name || '', args.query));
    return connection('RepositoryCollaboratorConnection', list, args);
  },

  // ----- RepositoryCollaboratorEdge / PermissionSource
  'RepositoryCollaboratorEdge.permissionSources': (e, _a, ctx) => ctx.state.permissionSources(e.repo, e.node),

  // ----- Ref / Commit / Blob
  'Ref.id': (ref) => nodeId('Ref', `${ref.repo.databaseId}:${ref.name}`),
  'Ref.repository': (ref) => ref.repo,
  'Ref.target': (ref) => commitObject(ref.repo),
  'Commit.id': (c) => nodeId('Commit', `${c.repo.databaseId}:${c.oid}`),
  'Commit.abbreviatedOid': (c) => c.oid.slice(0, 7),
  'Commit.repository': (c) => c.repo,
  'Commit.message': () => 'stand-in commit',
  'Commit.messageHeadline': () => 'stand-in commit',
  'Commit.committedDate': (c) => isoFromId(c.repo.databaseId),
  'Commit.authoredDate': (c) => isoFromId(c.repo.databaseId),
  'Commit.commitUrl': (c, _a, ctx) => `https://github.com/${ctx.state.org.login}/${c.repo.name}/commit/${c.oid}`,
  'Commit.commitResourcePath': (c, _a, ctx) => `/${ctx.state.org.login}/${c.repo.name}/commit/${c.oid}`,
  'Blob.id': (b) => b.nodeId,
  'Blob.repository': (b) => b.repo,
  'Blob.commitUrl': (b, _a, ctx) => `https://github.com/${ctx.state.org.login}/${b.repo.name}/blob/${b.repo.defaultBranch}/${b.path}`,
  'Blob.commitResourcePath': (b, _a, ctx) => `/${ctx.state.org.login}/${b.repo.name}/blob/${b.repo.defaultBranch}/${b.path}`,

  // ----- User
  'User.id': (u) => u.nodeId,
  'User.url': (u) => `https://github.com/${u.login}`,
  'User.resourcePath': (u) => `/${u.login}`,
  'User.avatarUrl': (u) => `https://avatars.githubusercontent.com/u/${u.databaseId}?v=4`,
  'User.isSiteAdmin': () => false,
  'User.createdAt': (u) => isoFromId(u.databaseId),
  'User.updatedAt': (u) => isoFromId(u.databaseId),
  'User.company': () => null,
  'User.bio': () => null,
  'User.location': () => null,
  'User.organization': (_u, { login }, ctx) => (ctx.state.isOrg(login) ? ctx.state.org : null),
};

// A repository outside the organization (a fork's parent): only its names.
function externalRepository(nameWithOwner) {
  const [owner, name] = nameWithOwner.split('/');
  return {
    __typename: 'Repository',
    name,
    nameWithOwner,
    isFork: false,
    isTemplate: false,
    isArchived: false,
    isDisabled: false,
    isPrivate: false,
    external: true,
    owner,
    files: {},
  };
}

function cmpStr(a, b) {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

function sortTeams(list, orderBy) {
  const out = list.slice().sort((a, b) => cmpStr(a.name, b.name) || a.databaseId - b.databaseId);
  if (orderBy.direction === 'DESC') out.reverse();
  return out;
}

function lookupNode(ctx, id) {
  let s = '';
  try {
    s = Buffer.from(String(id), 'base64').toString('utf8');
  } catch {
    s = '';
  }
  const m = /^0\d+:([A-Za-z]+)(\d+)$/.exec(s);
  const st = ctx.state;
  if (m) {
    const n = Number(m[2]);
    const found =
      m[1] === 'User'
        ? st.users.find((u) => u.databaseId === n)
        : m[1] === 'Repository'
          ? st.repos.find((r) => r.databaseId === n)
          : m[1] === 'Team'
            ? st.teams.find((t) => t.databaseId === n && canSeeTeam(ctx, t))
            : m[1] === 'Organization' && st.org.databaseId === n
              ? st.org
              : null;
    if (found) return found;
  }
  throw notFound(`Could not resolve to a node with the global id of '${id}'`);
}

// A non-null scalar or enum field the stand-in does not model answers a
// neutral value instead of nulling its parent (GitHub would answer something).
const SCALAR_DEFAULTS = {
  Int: 0,
  Float: 0,
  Boolean: false,
  DateTime: '2015-01-01T00:00:00Z',
  Date: '2015-01-01',
  URI: 'https://github.com/',
  GitObjectID: '0000000000000000000000000000000000000000',
};

function neutralValue(type) {
  if (!isNonNullType(type)) return null;
  const t = type.ofType;
  if (isListType(t)) return [];
  if (isEnumType(t)) return t.getValues()[0].value;
  if (isScalarType(t)) return t.name in SCALAR_DEFAULTS ? SCALAR_DEFAULTS[t.name] : '';
  if (isObjectType(t) && t.name.endsWith('Connection')) return connection(t.name, [], {});
  return null;
}

function fieldResolver(source, args, ctx, info) {
  const key = `${info.parentType.name}.${info.fieldName}`;
  // null_fields of the scenario (checked at load: nullable fields only).
  if (source && source._nulls && source._nulls.has(key)) return null;
  const r = RESOLVERS[key];
  if (r) return r(source, args, ctx, info);
  const v = source == null ? undefined : source[info.fieldName];
  return v === undefined ? neutralValue(info.returnType) : v;
}

function typeResolver(value) {
  return value && value.__typename;
}

module.exports = {
  fieldResolver,
  typeResolver,
  GhError,
  connection,
  encodeCursor,
  decodeCursor,
  FORBIDDEN_COLLABORATORS,
};
