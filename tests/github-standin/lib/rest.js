'use strict';
// REST endpoints, shaped after GitHub's OpenAPI description
// (@octokit/openapi, api.github.com.json) examples.

const crypto = require('node:crypto');
const { tokenFromHeader } = require('./auth');

const DOCS = 'https://docs.github.com/rest';
const API_VERSIONS = new Set(['2022-11-28']);

function errorBody(message, status, documentation_url = DOCS) {
  return { message, documentation_url, status: String(status) };
}

function userUrls(api, web, login) {
  return {
    avatar_url: `https://avatars.githubusercontent.com/u/${login.id}?v=4`,
    gravatar_id: '',
    url: `${api}/users/${login.login}`,
    html_url: `${web}/${login.login}`,
    followers_url: `${api}/users/${login.login}/followers`,
    following_url: `${api}/users/${login.login}/following{/other_user}`,
    gists_url: `${api}/users/${login.login}/gists{/gist_id}`,
    starred_url: `${api}/users/${login.login}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/users/${login.login}/subscriptions`,
    organizations_url: `${api}/users/${login.login}/orgs`,
    repos_url: `${api}/users/${login.login}/repos`,
    events_url: `${api}/users/${login.login}/events{/privacy}`,
    received_events_url: `${api}/users/${login.login}/received_events`,
  };
}

/** Simple user object (as embedded in other objects). */
function simpleUser(base, user) {
  const u = { login: user.login, id: user.databaseId };
  return Object.assign(
    { login: user.login, id: user.databaseId, node_id: user.nodeId },
    userUrls(base.api, base.web, u),
    { type: 'User', user_view_type: 'public', site_admin: false },
  );
}

function created(user) {
  return new Date(Date.UTC(2015, 0, 1) + (user.databaseId % 100000000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** GET /user (private profile) or GET /users/{u} (public profile). */
function fullUser(base, user, privateProfile) {
  const out = Object.assign(simpleUser(base, user), {
    name: user.name,
    company: null,
    blog: '',
    location: null,
    email: user.email || null,
    hireable: null,
    bio: null,
    twitter_username: null,
    notification_email: user.email || null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: created(user),
    updated_at: created(user),
  });
  if (privateProfile) {
    Object.assign(out, {
      private_gists: 0,
      total_private_repos: 0,
      owned_private_repos: 0,
      disk_usage: 0,
      collaborators: 0,
      two_factor_authentication: true,
      plan: { name: 'free', space: 976562499, collaborators: 0, private_repos: 10000 },
    });
  }
  return out;
}

function orgSimple(base, org) {
  const api = base.api;
  return {
    login: org.login,
    id: org.databaseId,
    node_id: org.nodeId,
    url: `${api}/orgs/${org.login}`,
    repos_url: `${api}/orgs/${org.login}/repos`,
    events_url: `${api}/orgs/${org.login}/events`,
    hooks_url: `${api}/orgs/${org.login}/hooks`,
    issues_url: `${api}/orgs/${org.login}/issues`,
    members_url: `${api}/orgs/${org.login}/members{/member}`,
    public_members_url: `${api}/orgs/${org.login}/public_members{/member}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${org.databaseId}?v=4`,
    description: org.description,
  };
}

function orgFull(base, state, principal) {
  const org = state.org;
  const out = Object.assign(orgSimple(base, org), {
    name: org.name,
    company: null,
    blog: '',
    location: null,
    email: null,
    twitter_username: null,
    is_verified: false,
    has_organization_projects: true,
    has_repository_projects: true,
    public_repos: state.repos.filter((r) => !r.isPrivate).length,
    public_gists: 0,
    followers: 0,
    following: 0,
    html_url: `${base.web}/${org.login}`,
    created_at: org.created_at,
    updated_at: org.created_at,
    archived_at: null,
    type: 'Organization',
  });
  const admin = principal && principal.scopes.has('admin:org');
  if (admin) {
    const priv = state.repos.filter((r) => r.isPrivate).length;
    Object.assign(out, {
      total_private_repos: priv,
      owned_private_repos: priv,
      private_gists: 0,
      disk_usage: 0,
      collaborators: state.users.filter((u) => !u.orgRole).length,
      billing_email: null,
      plan: { name: 'team', space: 976562499, private_repos: 999999, filled_seats: state.members.length, seats: state.members.length },
    });
    if (org.default_repository_permission != null) out.default_repository_permission = org.default_repository_permission;
    Object.assign(out, {
      default_repository_branch: 'main',
      members_can_create_repositories: true,
      two_factor_requirement_enabled: false,
      members_allowed_repository_creation_type: 'all',
      members_can_create_public_repositories: true,
      members_can_create_private_repositories: true,
      members_can_create_internal_repositories: false,
      members_can_create_pages: true,
      members_can_create_public_pages: true,
      members_can_create_private_pages: true,
      members_can_delete_repositories: true,
      members_can_change_repo_visibility: true,
      members_can_invite_outside_collaborators: true,
      members_can_delete_issues: false,
      display_commenter_full_name_setting_enabled: false,
      readers_can_create_discussions: true,
      members_can_create_teams: true,
      members_can_view_dependency_insights: true,
      members_can_fork_private_repositories: false,
      web_commit_signoff_required: false,
      deploy_keys_enabled_for_repositories: true,
    });
  }
  return out;
}

/** An org-membership object: active for a member, pending for an invitation. */
function membershipObject(base, state, u) {
  return {
    url: `${base.api}/orgs/${state.org.login}/memberships/${u.login}`,
    state: u.orgRole ? 'active' : 'pending',
    role: u.orgRole === 'ADMIN' ? 'admin' : 'member',
    organization_url: `${base.api}/orgs/${state.org.login}`,
    organization: orgSimple(base, state.org),
    user: simpleUser(base, u),
  };
}

function installationObject(base, state, appId, installationId) {
  const org = state.org;
  return {
    id: installationId,
    client_id: `Iv1.standin${appId}`,
    account: Object.assign(orgSimple(base, org), {
      gravatar_id: '',
      html_url: `${base.web}/${org.login}`,
      type: 'Organization',
      user_view_type: 'public',
      site_admin: false,
    }),
    repository_selection: 'all',
    access_tokens_url: `${base.api}/app/installations/${installationId}/access_tokens`,
    repositories_url: `${base.api}/installation/repositories`,
    html_url: `${base.web}/organizations/${org.login}/settings/installations/${installationId}`,
    app_id: Number(appId) || appId,
    app_slug: 'ghaccess-standin',
    target_id: org.databaseId,
    target_type: 'Organization',
    permissions: { members: 'read', contents: 'read', metadata: 'read', administration: 'read' },
    events: ['organization', 'membership', 'team', 'member', 'repository', 'push'],
    created_at: '2024-01-01T00:00:00Z',
    updated_at: '2024-01-01T00:00:00Z',
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_at: null,
    suspended_by: null,
  };
}

/**
 * The REST route of a request: {name, org?, user?, id?, jwt?}, or null for
 * an unknown path. server.js names its in-flight counters after it too.
 */
function routeOf(method, path) {
  let m;
  return (
    (method === 'GET' && path === '/user' && { name: 'user' }) ||
    (method === 'GET' && path === '/rate_limit' && { name: 'rate_limit' }) ||
    (method === 'GET' && path === '/app' && { name: 'app', jwt: true }) ||
    (method === 'GET' && (m = /^\/orgs\/([^/]+)$/.exec(path)) && { name: 'org', org: m[1] }) ||
    (method === 'GET' && (m = /^\/orgs\/([^/]+)\/installation$/.exec(path)) && { name: 'installation', org: m[1], jwt: true }) ||
    (method === 'POST' &&
      (m = /^\/app\/installations\/([^/]+)\/access_tokens$/.exec(path)) && { name: 'access_tokens', id: m[1], jwt: true }) ||
    (method === 'GET' && (m = /^\/orgs\/([^/]+)\/members\/([^/]+)$/.exec(path)) && { name: 'member', org: m[1], user: m[2] }) ||
    (method === 'GET' &&
      (m = /^\/orgs\/([^/]+)\/memberships\/([^/]+)$/.exec(path)) && { name: 'membership', org: m[1], user: m[2] }) ||
    (method === 'GET' &&
      (m = /^\/user\/memberships\/orgs\/([^/]+)$/.exec(path)) && { name: 'user_membership', org: m[1] }) ||
    (method === 'GET' && (m = /^\/users\/([^/]+)$/.exec(path)) && { name: 'users', user: m[1] }) ||
    null
  );
}

/**
 * The answer GitHub gives a personal access token that is not authorized
 * for the organization's SAML SSO, on that organization's resources
 * ("Personal access tokens and SAML SSO" in "Authenticating to the REST
 * API"): 403 with X-GitHub-SSO naming a URL that authorizes the token (it
 * expires after an hour, so each answer carries a fresh one).
 */
function ssoRequired(base, state, send) {
  const request = crypto.randomBytes(30).toString('base64url');
  return send(
    403,
    {
      message:
        'Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization.',
      documentation_url: 'https://docs.github.com/articles/authenticating-to-a-github-organization-with-saml-single-sign-on/',
    },
    { 'x-github-sso': `required; url=${base.web}/orgs/${state.org.login}/sso?authorization_request=${request}` },
  );
}

/**
 * Route a REST request. Returns {status, headers, body (object|null), kind,
 * charge, principal}. Authentication, ETags and rate limits are applied here.
 * env: {state, auth, budgets, stats, base:{api, web}, limitFor(principal)}
 */
function handleRest(env, method, path, req) {
  const { state, auth, budgets, stats, base } = env;
  const headers = {
    'x-github-media-type': 'github.v3; format=json',
    'x-github-api-version-selected': '2022-11-28',
    vary: 'Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding',
  };
  const send = (status, body, extraHeaders) => ({ status, headers: Object.assign(headers, extraHeaders || {}), body });

  const apiVersion = req.headers['x-github-api-version'];
  if (apiVersion !== undefined && !API_VERSIONS.has(apiVersion)) {
    return send(400, errorBody(`Invalid API version: '${apiVersion}'`, 400, `${DOCS}/overview/api-versions`));
  }

  const route = routeOf(method, path);
  if (route && route.name === 'user') stats.user_requests++;

  const authz = req.headers.authorization;
  const token = tokenFromHeader(authz);

  // ---- GitHub App endpoints: JWT only
  if (route && route.jwt) {
    const v = auth.verifyJwt(token);
    if (!v.ok) return send(401, errorBody(v.message, 401));
    const key = `jwt:${auth.appId}`;
    const budget = budgets.get('core', key);
    Object.assign(headers, budgets.headers(budget));
    if (route.name === 'app') {
      return finish(env, req, budget, send(200, {
        id: Number(auth.appId) || auth.appId,
        slug: 'ghaccess-standin',
        client_id: auth.appClientId || `Iv1.standin${auth.appId}`,
        node_id: Buffer.from(`03:App${auth.appId}`).toString('base64'),
        name: 'ghaccess stand-in app',
        owner: orgSimple(base, state.org),
        permissions: { members: 'read', contents: 'read', metadata: 'read', administration: 'read' },
        events: [],
      }));
    }
    if (route.name === 'installation') {
      // Not installed on that organization (or never was): 404.
      if (!state.isOrg(decodeURIComponent(route.org)) || !auth.installed) {
        return send(404, errorBody('Not Found', 404, `${DOCS}/apps/apps#get-an-organization-installation-for-the-authenticated-app`));
      }
      return finish(env, req, budget, send(200, installationObject(base, state, auth.appId, auth.installationId)));
    }
    // An installation id that is not the current one (uninstalled,
    // replaced by a reinstall, or never existed): 404.
    if (!auth.installed || String(route.id) !== String(auth.installationId)) {
      return send(404, errorBody('Not Found', 404, `${DOCS}/apps/apps#create-an-installation-access-token-for-an-app`));
    }
    const { token: t, expiresAt } = auth.issueInstallationToken();
    budget.used++;
    return send(201, {
      token: t,
      expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      permissions: { members: 'read', contents: 'read', metadata: 'read', administration: 'read' },
      repository_selection: 'all',
    });
  }

  // ---- token / PAT endpoints
  let principal = null;
  if (authz !== undefined) {
    principal = auth.principal(state, token);
    if (!principal) return send(401, errorBody('Bad credentials', 401));
  }
  const rlKey = principal ? principal.token : `ip:${req.socket.remoteAddress}`;
  const budget = budgets.get('core', rlKey, principal ? env.restLimitFor(principal) : 60);
  Object.assign(headers, budgets.headers(budget));
  if (principal && principal.kind !== 'installation') {
    headers['x-oauth-scopes'] = [...principal.scopes].join(', ');
    headers['x-accepted-oauth-scopes'] = '';
    const exp = principal.kind === 'server' ? state.scenario.server_token_expiration : principal.user.tokenExpiration;
    if (exp !== null) headers['github-authentication-token-expiration'] = exp || '2027-10-12 09:00:00 UTC';
  }

  if (!route) return send(404, errorBody('Not Found', 404));

  if (route.name === 'rate_limit') {
    const g = budgets.get('graphql', rlKey, principal ? env.limitFor(principal) : 0);
    const view = (b) => ({ limit: b.limit, used: b.used, remaining: budgets.remaining(b), reset: b.reset });
    return send(200, { resources: { core: view(budget), graphql: view(g) }, rate: view(budget) });
  }

  if (budgets.remaining(budget) <= 0) {
    stats.rateLimited++;
    return send(
      403,
      errorBody(
        `API rate limit exceeded for ${principal ? `user ID ${principal.user ? principal.user.databaseId : auth.installationId}` : req.socket.remoteAddress}.`,
        403,
        'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
      ),
    );
  }

  // Organization resources refuse a token not authorized for SAML SSO.
  if (
    route.org !== undefined &&
    principal &&
    principal.ssoAuthorized === false &&
    state.isOrg(decodeURIComponent(route.org))
  ) {
    return finish(env, req, budget, ssoRequired(base, state, send));
  }

  switch (route.name) {
    case 'user': {
      if (!principal) {
        return send(401, errorBody('Requires authentication', 401, `${DOCS}/users/users#get-the-authenticated-user`));
      }
      if (!principal.user) {
        return send(403, errorBody('Resource not accessible by integration', 403, `${DOCS}/users/users#get-the-authenticated-user`));
      }
      return finish(env, req, budget, send(200, fullUser(base, principal.user, true)));
    }
    case 'users': {
      const u = state.user(decodeURIComponent(route.user));
      if (!u) return finish(env, req, budget, send(404, errorBody('Not Found', 404, `${DOCS}/users/users#get-a-user`)));
      return finish(env, req, budget, send(200, fullUser(base, u, false)));
    }
    case 'org': {
      if (!state.isOrg(decodeURIComponent(route.org))) {
        return finish(env, req, budget, send(404, errorBody('Not Found', 404, `${DOCS}/orgs/orgs#get-an-organization`)));
      }
      return finish(env, req, budget, send(200, orgFull(base, state, principal)));
    }
    case 'member': {
      if (!principal) return send(401, errorBody('Requires authentication', 401));
      const u = state.user(decodeURIComponent(route.user));
      if (!state.isOrg(decodeURIComponent(route.org)) || !u || !u.orgRole) {
        return finish(env, req, budget, send(404, errorBody('User does not exist or is not a member of the organization', 404)));
      }
      return finish(env, req, budget, send(204, null));
    }
    case 'membership': {
      // "Get organization membership for a user": "The state parameter in
      // the response can be used to identify the user's membership status"
      // (active, or pending for an invitation not yet accepted); a user
      // neither a member nor invited is 404.
      if (!principal) return send(401, errorBody('Requires authentication', 401));
      const u = state.user(decodeURIComponent(route.user));
      if (!state.isOrg(decodeURIComponent(route.org)) || !u || (!u.orgRole && !u.invited)) {
        return finish(env, req, budget, send(404, errorBody('Not Found', 404)));
      }
      return finish(
        env,
        req,
        budget,
        send(200, Object.assign(membershipObject(base, state, u), { direct_membership: true })),
      );
    }
    case 'user_membership': {
      // "If the authenticated user is an active or pending member of the
      // organization, this endpoint will return the user's membership. If
      // the authenticated user is not affiliated with the organization, a
      // 404 is returned." (REST, "Get an organization membership for the
      // authenticated user").
      if (!principal) return send(401, errorBody('Requires authentication', 401));
      if (!principal.user) {
        return send(403, errorBody('Resource not accessible by integration', 403, `${DOCS}/orgs/members#get-an-organization-membership-for-the-authenticated-user`));
      }
      const u = principal.user;
      if (!state.isOrg(decodeURIComponent(route.org)) || (!u.orgRole && !u.invited)) {
        return finish(env, req, budget, send(404, errorBody('Not Found', 404, `${DOCS}/orgs/members#get-an-organization-membership-for-the-authenticated-user`)));
      }
      return finish(
        env,
        req,
        budget,
        send(200, Object.assign(membershipObject(base, state, u), { permissions: { can_create_repository: true } })),
      );
    }
    default:
      return send(404, errorBody('Not Found', 404));
  }
}

/** ETag / If-None-Match handling and rate-limit charging for a computed answer. */
function finish(env, req, budget, res) {
  const { budgets, stats } = env;
  const text = res.body == null ? '' : JSON.stringify(res.body);
  res.text = text;
  if (res.status === 200) {
    const etag = `W/"${crypto.createHash('sha256').update(text).digest('hex')}"`;
    res.headers.etag = etag;
    res.headers['cache-control'] = 'private, max-age=60, s-maxage=60';
    const inm = req.headers['if-none-match'];
    if (inm && etagMatches(inm, etag)) {
      stats.not_modified++;
      Object.assign(res.headers, budgets.headers(budget));
      return { status: 304, headers: res.headers, body: null, text: '' };
    }
  }
  budget.used++;
  Object.assign(res.headers, budgets.headers(budget));
  return res;
}

function etagMatches(header, etag) {
  const strip = (t) => t.trim().replace(/^W\//, '');
  return header === '*' || header.split(',').some((t) => strip(t) === strip(etag));
}

module.exports = { handleRest, routeOf, simpleUser, orgSimple, fullUser, errorBody };
