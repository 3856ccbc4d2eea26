#!/usr/bin/env node
'use strict';
// GitHub stand-in for ghaccess tests: GraphQL + REST in GitHub's shapes over a
// scenario file (tests/scenarios/README.md). See README.md for the command line and
// the control API under /_standin/.

const fs = require('node:fs');
const http = require('node:http');
const crypto = require('node:crypto');

const { State } = require('./lib/state');
const { generate } = require('./lib/generate');
const { Auth, Budgets, tokenFromHeader } = require('./lib/auth');
const { Faults, faultResponse } = require('./lib/faults');
const { OAuth } = require('./lib/oauth');
const { OidcIssuer } = require('./lib/oidc');

const USAGE = `usage: node server.js (--scenario FILE | --generate repos=N,teams=N,members=N[,seed=S][,outside=N])
                      [--listen HOST:PORT] [--prefix /api]
                      [--app-id ID --app-public-key PEMFILE [--app-client-id CID] [--app-token-ttl SECONDS]]
                      [--ratelimit-limit N] [--rest-ratelimit-limit N] [--app-ratelimit-limit N]
                      [--dump-scenario] [--verbose]`;

function parseArgs(argv) {
  const o = {
    listen: '127.0.0.1:0',
    prefix: '',
    ratelimitLimit: 5000,
    restRatelimitLimit: 5000,
    appRatelimitLimit: null,
    appTokenTtl: 3600,
  };
  const need = (i, name) => {
    if (i + 1 >= argv.length) throw new Error(`${name} needs a value`);
    return argv[i + 1];
  };
  const posInt = (v, name) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--scenario': o.scenario = need(i++, a); break;
      case '--generate': o.generate = need(i++, a); break;
      case '--listen': o.listen = need(i++, a); break;
      case '--prefix': o.prefix = need(i++, a).replace(/\/+$/, ''); break;
      case '--app-id': o.appId = need(i++, a); break;
      case '--app-client-id': o.appClientId = need(i++, a); break;
      case '--app-public-key': o.appPublicKey = need(i++, a); break;
      case '--app-token-ttl': o.appTokenTtl = posInt(need(i++, a), a); break;
      case '--ratelimit-limit': o.ratelimitLimit = posInt(need(i++, a), a); break;
      case '--rest-ratelimit-limit': o.restRatelimitLimit = posInt(need(i++, a), a); break;
      case '--app-ratelimit-limit': o.appRatelimitLimit = posInt(need(i++, a), a); break;
      case '--dump-scenario': o.dump = true; break;
      case '--verbose': o.verbose = true; break;
      case '-h':
      case '--help': o.help = true; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (o.help) return o;
  if (!o.scenario === !o.generate) throw new Error('give exactly one of --scenario FILE and --generate SPEC');
  if (o.prefix && !o.prefix.startsWith('/')) throw new Error('--prefix must start with /');
  if (!!o.appId !== !!o.appPublicKey) throw new Error('--app-id and --app-public-key go together');
  if (o.appRatelimitLimit == null) o.appRatelimitLimit = o.ratelimitLimit;
  return o;
}

function parseListen(s) {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(s);
  if (!m) throw new Error('--listen must be HOST:PORT');
  return { host: m[1] || m[2], port: Number(m[3]) };
}

class Stats {
  constructor() {
    // Requests being answered now, per route ("graphql", "user", or a REST
    // route name of lib/rest.js), and the most seen at once since the last
    // reset: how many calls a client keeps open against GitHub.
    this.inFlight = {};
    this.reset();
  }

  enter(route) {
    this.routes[route] = (this.routes[route] || 0) + 1;
    const n = (this.inFlight[route] || 0) + 1;
    this.inFlight[route] = n;
    if (n > (this.maxInFlight[route] || 0)) this.maxInFlight[route] = n;
  }

  leave(route) {
    this.inFlight[route] -= 1;
  }

  reset() {
    // Requests still in flight stay counted: the maximum starts from them.
    this.maxInFlight = Object.assign({}, this.inFlight);
    this.graphql_requests = 0;
    this.graphql_points = 0;
    this.rest_requests = 0;
    this.user_requests = 0;
    this.not_modified = 0;
    this.faulted_requests = 0;
    this.rateLimited = 0;
    this.webhooks_sent = 0;
    this.oauth_exchanges = 0;
    this.oidc_tokens = 0;
    this.oidc_key_requests = 0;
    this.queries = {};
    this.routes = {};
  }

  countQuery(name) {
    this.queries[name] = (this.queries[name] || 0) + 1;
  }

  toJSON() {
    return {
      graphql_requests: this.graphql_requests,
      graphql_points: this.graphql_points,
      rest_requests: this.rest_requests,
      user_requests: this.user_requests,
      not_modified: this.not_modified,
      faulted_requests: this.faulted_requests,
      rate_limited: this.rateLimited,
      webhooks_sent: this.webhooks_sent,
      oauth_exchanges: this.oauth_exchanges,
      oidc_tokens: this.oidc_tokens,
      oidc_key_requests: this.oidc_key_requests,
      queries: this.queries,
      routes: Object.assign({}, this.routes),
      in_flight: Object.assign({}, this.inFlight),
      max_in_flight: Object.assign({}, this.maxInFlight),
    };
  }
}

function readBody(req, limit = 64 * 1024 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function createStandin(opts) {
  const log = (...a) => process.stderr.write(`[standin] ${a.join(' ')}\n`);
  const verbose = opts.verbose ? log : () => {};
  let state = new State(opts.scenarioObject);
  const stats = new Stats();
  const faults = new Faults();
  const auth = new Auth({
    appId: opts.appId,
    appClientId: opts.appClientId,
    appPublicKeyPem: opts.appPublicKey ? fs.readFileSync(opts.appPublicKey, 'utf8') : null,
    appTokenTtl: opts.appTokenTtl,
  });
  const budgets = new Budgets({ graphql: opts.ratelimitLimit, core: opts.restRatelimitLimit });
  const oauth = new OAuth();
  const oidc = new OidcIssuer();
  const prefix = opts.prefix || '';
  const graphqlPath = `${prefix}/graphql`;
  const restBase = prefix ? `${prefix}/v3` : '';

  // Loaded lazily so that --dump-scenario does not pay for the schema.
  const { handleGraphql } = require('./lib/graphql-endpoint');
  const { handleRest, routeOf } = require('./lib/rest');
  const webhooks = require('./lib/webhooks');

  const limitFor = (p) => (p.kind === 'installation' ? opts.appRatelimitLimit : opts.ratelimitLimit);
  const restLimitFor = (p) => (p.kind === 'installation' ? Math.max(opts.restRatelimitLimit, 5000) : opts.restRatelimitLimit);

  function send(res, status, headers, text) {
    const h = Object.assign(
      {
        server: 'GitHub.com',
        'x-github-request-id': crypto.randomBytes(8).toString('hex').toUpperCase(),
      },
      headers,
    );
    if (status !== 304 && status !== 204 && !h['content-type']) h['content-type'] = 'application/json; charset=utf-8';
    for (const [k, v] of Object.entries(h)) if (v !== undefined && v !== null) res.setHeader(k, v);
    if (status === 304 || status === 204) {
      res.writeHead(status);
      res.end();
      return;
    }
    const buf = Buffer.from(text == null ? '' : text);
    res.setHeader('content-length', buf.length);
    res.writeHead(status);
    res.end(buf);
  }

  const sendJson = (res, status, obj, headers) => send(res, status, headers || {}, JSON.stringify(obj));

  async function control(req, res, path) {
    const body = req.method === 'POST' ? await readBody(req) : '';
    const json = () => {
      try {
        return body ? JSON.parse(body) : {};
      } catch (e) {
        throw Object.assign(new Error(`invalid JSON: ${e.message}`), { status: 400 });
      }
    };
    try {
      if (req.method === 'GET' && path === '/_standin/stats') return sendJson(res, 200, stats);
      if (req.method === 'POST' && path === '/_standin/stats/reset') {
        stats.reset();
        return sendJson(res, 200, { ok: true });
      }
      if (req.method === 'GET' && path === '/_standin/health') return sendJson(res, 200, { ok: true });
      if (req.method === 'GET' && path === '/_standin/info') {
        return sendJson(res, 200, {
          organization: state.org.login,
          users: state.users.length,
          members: state.members.length,
          teams: state.teams.length,
          repositories: state.repos.length,
          graphql_path: graphqlPath,
          rest_base: restBase || '/',
          app_mode: auth.appMode,
          schema_version: require('./lib/schema').schemaVersion(),
        });
      }
      if (req.method === 'GET' && path === '/_standin/scenario') return sendJson(res, 200, state.scenario);
      if (req.method === 'POST' && path === '/_standin/scenario') {
        let next;
        try {
          next = new State(json());
        } catch (e) {
          return sendJson(res, e.status || 400, { ok: false, error: e.message });
        }
        state = next;
        log(`scenario replaced: org ${state.org.login}, ${state.users.length} users, ${state.teams.length} teams, ${state.repos.length} repositories`);
        return sendJson(res, 200, { ok: true });
      }
      if (path === '/_standin/oidc/token' || path === '/_standin/oidc/request' || path === '/_standin/oidc/job') {
        const base = `http://${req.headers.host || '127.0.0.1'}`;
        const query = new URL(req.url, base).searchParams;
        try {
          if (req.method === 'GET' && path === '/_standin/oidc/token') {
            const out = oidc.token(state, base, query);
            stats.oidc_tokens++;
            return sendJson(res, 200, { value: out.value });
          }
          if (req.method === 'POST' && path === '/_standin/oidc/job') return sendJson(res, 200, oidc.createJob(base, json()));
          if (req.method === 'GET' && path === '/_standin/oidc/request') {
            const out = oidc.request(state, base, query, req.headers.authorization);
            stats.oidc_tokens++;
            return sendJson(res, 200, out);
          }
        } catch (e) {
          return sendJson(res, e.status || 400, { message: e.message });
        }
      }
      if (req.method === 'GET' && path === '/_standin/oauth') return sendJson(res, 200, oauth.describe());
      if (req.method === 'POST' && path === '/_standin/oauth') return sendJson(res, 200, Object.assign({ ok: true }, oauth.configure(json())));
      if (req.method === 'GET' && path === '/_standin/faults') return sendJson(res, 200, faults.describe());
      if (req.method === 'POST' && path === '/_standin/faults') {
        let d;
        try {
          d = faults.set(json());
        } catch (e) {
          return sendJson(res, e.status || 400, { ok: false, error: e.message });
        }
        log(`fault: ${JSON.stringify(d)}`);
        return sendJson(res, 200, Object.assign({ ok: true }, d));
      }
      if (req.method === 'POST' && path === '/_standin/app/installation') {
        if (!auth.appMode) return sendJson(res, 400, { ok: false, error: 'not in GitHub App mode (--app-id)' });
        let r;
        try {
          const body = json();
          r = auth.changeInstallation(body.action, body.id);
        } catch (e) {
          return sendJson(res, e.status || 400, { ok: false, error: e.message });
        }
        log(`app installation: ${JSON.stringify(r)}`);
        return sendJson(res, 200, Object.assign({ ok: true }, r));
      }
      if (req.method === 'GET' && path === '/_standin/app/installation') {
        return sendJson(res, 200, { ok: true, installation_id: auth.installed ? auth.installationId : null, installed: auth.installed });
      }
      if (req.method === 'POST' && path === '/_standin/ratelimit/reset') {
        budgets.reset();
        return sendJson(res, 200, { ok: true });
      }
      if (req.method === 'POST' && path === '/_standin/webhook') {
        let r;
        try {
          r = await webhooks.deliver(state, json());
        } catch (e) {
          return sendJson(res, e.status || 400, { ok: false, error: e.message });
        }
        stats.webhooks_sent++;
        verbose(`webhook ${r.event} ${r.action || ''} -> ${r.status}`);
        return sendJson(res, 200, r);
      }
      return sendJson(res, 404, { ok: false, error: `no control endpoint ${req.method} ${path}` });
    } catch (e) {
      return sendJson(res, e.status || 500, { ok: false, error: e.message });
    }
  }

  // A fault on a host that is not the API (the OAuth web flow, the OIDC
  // issuer): true when it answered (or dropped) the request.
  async function webHostFault(target, req, res) {
    const fault = faults.take(target);
    if (!fault) return false;
    stats.faulted_requests++;
    if (fault.mode === 'down') {
      req.socket.destroy();
      return true;
    }
    if (fault.mode === 'slow') {
      await new Promise((r) => setTimeout(r, fault.delay_ms));
      return false;
    }
    const fr = faultResponse(fault, 'rest');
    if (req.method === 'POST') await readBody(req).catch(() => '');
    send(res, fr.status, fr.headers, fr.text);
    return true;
  }

  async function handle(req, res) {
    const url = new URL(req.url, 'http://standin.invalid');
    const path = url.pathname;
    if (path.startsWith('/_standin/')) return control(req, res, path);

    // ---- the Actions OIDC issuer lives on its own host, never under the API prefix
    if (path === '/oidc/.well-known/openid-configuration' || path === '/oidc/.well-known/jwks') {
      if (await webHostFault('oidc', req, res)) return undefined;
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { message: 'Method Not Allowed' });
      stats.oidc_key_requests++;
      const base = `http://${req.headers.host || '127.0.0.1'}`;
      return sendJson(res, 200, path.endsWith('/jwks') ? oidc.jwks() : oidc.discovery(base));
    }

    // ---- the OAuth web flow lives on the web host, never under the API prefix
    if (path === '/login/oauth/authorize' || path === '/login/oauth/access_token') {
      if (await webHostFault('oauth', req, res)) return undefined;
      if (path === '/login/oauth/authorize' && (req.method === 'GET' || req.method === 'HEAD')) {
        const out = oauth.authorize(state, url.searchParams);
        return send(res, out.status, out.headers, out.text);
      }
      if (path === '/login/oauth/access_token' && req.method === 'POST') {
        const body = await readBody(req, 64 * 1024);
        stats.oauth_exchanges++;
        const out = oauth.exchange(state, url.searchParams, body, req.headers['content-type'], req.headers.accept);
        return send(res, out.status, out.headers, out.text);
      }
      return send(res, 404, { 'content-type': 'text/html; charset=utf-8' }, '<html><body>Not Found</body></html>\n');
    }

    // ---- which GitHub endpoint
    let kind;
    let restPath = null;
    if (path === graphqlPath) kind = 'graphql';
    else if (restBase && (path === restBase || path.startsWith(`${restBase}/`))) {
      kind = 'rest';
      restPath = path.slice(restBase.length) || '/';
    } else if (!restBase) {
      kind = 'rest';
      restPath = path;
    } else {
      return sendJson(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
    }
    if (restPath !== null && restPath.length > 1) restPath = restPath.replace(/\/+$/, '');
    if (kind === 'rest' && restPath === '/user') kind = 'user';

    // ---- in-flight counters, faulted (e.g. slowed) requests included
    const route = kind === 'graphql' ? 'graphql' : (routeOf(req.method, restPath) || { name: 'other' }).name;
    stats.enter(route);
    res.once('close', () => stats.leave(route));

    // ---- injected faults
    const fault = faults.take(kind === 'user' ? 'user' : kind);
    let partialFault = false;
    if (fault) {
      stats.faulted_requests++;
      verbose(`fault ${fault.mode} on ${req.method} ${path}`);
      if (fault.mode === 'down') {
        req.socket.destroy();
        return undefined;
      }
      if (fault.mode === 'slow') await new Promise((r) => setTimeout(r, fault.delay_ms));
      else if (fault.mode === 'partial') partialFault = true;
      else {
        const fr = faultResponse(fault, kind);
        if (req.method === 'POST') await readBody(req).catch(() => '');
        return send(res, fr.status, fr.headers, fr.text);
      }
    }

    // ---- GitHub rejects requests without a User-Agent
    if (!req.headers['user-agent']) {
      return send(
        res,
        403,
        { 'content-type': 'text/plain; charset=utf-8' },
        'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n',
      );
    }

    const body = req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH' ? await readBody(req) : '';

    if (kind === 'graphql') {
      stats.graphql_requests++;
      if (req.method !== 'POST') {
        return sendJson(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/graphql', status: '404' });
      }
      const authz = req.headers.authorization;
      if (authz === undefined) {
        return sendJson(res, 401, {
          message: 'This endpoint requires you to be authenticated.',
          documentation_url: 'https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql',
        });
      }
      const principal = auth.principal(state, tokenFromHeader(authz));
      if (!principal) {
        return sendJson(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/graphql', status: '401' });
      }
      const t0 = Date.now();
      const out = handleGraphql({ state, principal, budgets, stats, partialFault, limitFor, installationId: auth.installationId }, body);
      verbose(`graphql ${principal.kind} ${Date.now() - t0}ms`);
      out.headers['x-github-media-type'] = 'github.v4; format=json';
      out.headers['x-oauth-scopes'] = principal.kind === 'installation' ? undefined : [...principal.scopes].join(', ');
      return sendJson(res, out.status, out.body, out.headers);
    }

    stats.rest_requests++;
    const host = req.headers.host || '127.0.0.1';
    const base = { api: `http://${host}${restBase}`, web: `http://${host}` };
    const out = handleRest({ state, auth, budgets, stats, base, limitFor, restLimitFor }, req.method, restPath, req);
    verbose(`rest ${req.method} ${restPath} -> ${out.status}`);
    const text = out.text !== undefined ? out.text : out.body == null ? '' : JSON.stringify(out.body);
    return send(res, out.status, out.headers, text);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      log(`internal error: ${e.stack || e}`);
      if (!res.headersSent) sendJson(res, 500, { message: 'Server Error (stand-in bug)', error: String(e.message) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30000;

  return {
    server,
    stats,
    faults,
    get state() {
      return state;
    },
  };
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  try {
    opts.scenarioObject = opts.generate ? generate(opts.generate) : JSON.parse(fs.readFileSync(opts.scenario, 'utf8'));
  } catch (e) {
    process.stderr.write(`cannot load scenario: ${e.message}\n`);
    process.exit(2);
  }
  if (opts.dump) {
    process.stdout.write(`${JSON.stringify(opts.scenarioObject, null, 1)}\n`);
    return;
  }
  let standin;
  try {
    standin = createStandin(opts);
  } catch (e) {
    process.stderr.write(`cannot start: ${e.message}\n`);
    process.exit(2);
  }
  const { host, port } = parseListen(opts.listen);
  standin.server.on('error', (e) => {
    process.stderr.write(`cannot listen on ${opts.listen}: ${e.message}\n`);
    process.exit(1);
  });
  standin.server.listen(port, host, () => {
    const addr = standin.server.address();
    const h = addr.family === 'IPv6' || addr.family === 6 ? `[${addr.address}]` : addr.address;
    process.stderr.write(
      `[standin] org ${standin.state.org.login}: ${standin.state.users.length} users, ${standin.state.teams.length} teams, ${standin.state.repos.length} repositories; graphql at ${opts.prefix}/graphql, REST at ${opts.prefix ? `${opts.prefix}/v3` : '/'}\n`,
    );
    process.stdout.write(`listening on http://${h}:${addr.port}\n`);
  });
  const stop = () => {
    standin.server.close(() => process.exit(0));
    standin.server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) main();

module.exports = { createStandin, parseArgs };
