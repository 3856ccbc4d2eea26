'use strict';
// Injected failures for GitHub endpoints (never for /_standin/*).
//
// POST /_standin/faults {"mode", "seconds", "delay_ms", "status", "target",
// "count", "retry_after"}; see README.md.

const MODES = new Set(['none', 'down', 'slow', 'error5xx', 'ratelimit', 'garbage', 'partial']);
const TARGETS = new Set(['all', 'graphql', 'rest', 'user', 'oauth', 'oidc']);

class Faults {
  constructor() {
    this.current = { mode: 'none' };
  }

  /** Validate and install a fault. Returns the installed description or throws. */
  set(cfg) {
    if (!cfg || typeof cfg !== 'object') throw new Error('body must be a JSON object');
    const mode = cfg.mode || 'none';
    if (!MODES.has(mode)) throw new Error(`unknown mode ${JSON.stringify(mode)}`);
    const target = cfg.target || 'all';
    if (!TARGETS.has(target)) throw new Error(`unknown target ${JSON.stringify(target)}`);
    const num = (v, name, dflt) => {
      if (v === undefined || v === null) return dflt;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`);
      return v;
    };
    const seconds = num(cfg.seconds, 'seconds', 0);
    const count = num(cfg.count, 'count', 0);
    this.current = {
      mode,
      target,
      seconds,
      until: seconds > 0 ? Date.now() + seconds * 1000 : null,
      delay_ms: num(cfg.delay_ms, 'delay_ms', 3000),
      status: num(cfg.status, 'status', mode === 'ratelimit' ? 403 : 502),
      retry_after: num(cfg.retry_after, 'retry_after', null),
      count: count > 0 ? count : null, // only the next N matching requests
      applied: 0,
    };
    return this.describe();
  }

  describe() {
    const c = this.active();
    if (!c) return { mode: 'none' };
    return {
      mode: c.mode,
      target: c.target,
      seconds_left: c.until ? Math.max(0, Math.ceil((c.until - Date.now()) / 1000)) : null,
      delay_ms: c.delay_ms,
      status: c.status,
      count_left: c.count,
      applied: c.applied,
    };
  }

  active() {
    const c = this.current;
    if (c.mode === 'none') return null;
    if (c.until && Date.now() >= c.until) {
      this.current = { mode: 'none' };
      return null;
    }
    return c;
  }

  /**
   * The fault for a request of `kind` ('graphql' | 'rest' | 'user'), or null.
   * Consumes one unit of `count` when it applies.
   */
  take(kind) {
    const c = this.active();
    if (!c) return null;
    const hit =
      c.target === 'all' ||
      c.target === kind ||
      (c.target === 'rest' && kind === 'user');
    if (!hit) return null;
    if (c.mode === 'partial' && kind !== 'graphql') return null;
    c.applied++;
    if (c.count !== null) {
      c.count--;
      if (c.count <= 0) this.current = { mode: 'none' };
    }
    return c;
  }
}

const HTML_5XX = {
  502: '<!DOCTYPE html>\n<html>\n  <head>\n    <meta http-equiv="Content-type" content="text/html; charset=utf-8">\n    <title>Unicorn! &middot; GitHub</title>\n  </head>\n  <body>\n    <p><strong>We had issues producing the response to your request.</strong></p>\n    <p>Sorry about that. Please try refreshing and contact us if the problem persists.</p>\n  </body>\n</html>\n',
  504: '<!DOCTYPE html>\n<html>\n  <head>\n    <meta http-equiv="Content-type" content="text/html; charset=utf-8">\n    <title>Unicorn! &middot; GitHub</title>\n  </head>\n  <body>\n    <p><strong>We couldn\'t respond to your request in time.</strong></p>\n    <p>Sorry about that. Please try resubmitting your request and contact us if the problem persists.</p>\n  </body>\n</html>\n',
};

/** The HTTP answer for error5xx / ratelimit / garbage faults: {status, headers, text}. */
function faultResponse(fault, kind) {
  if (fault.mode === 'error5xx') {
    const status = fault.status || 502;
    if (HTML_5XX[status]) {
      return { status, headers: { 'content-type': 'text/html; charset=utf-8' }, text: HTML_5XX[status] };
    }
    return {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      text: JSON.stringify({ message: 'Server Error', documentation_url: 'https://docs.github.com/rest', status: String(status) }),
    };
  }
  if (fault.mode === 'ratelimit') {
    const retry = fault.retry_after != null ? fault.retry_after : fault.until ? Math.max(1, Math.ceil((fault.until - Date.now()) / 1000)) : 1;
    const reset = Math.floor(Date.now() / 1000) + Math.max(1, Math.ceil(retry));
    return {
      status: fault.status || 403,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'retry-after': String(Math.ceil(retry)),
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-used': '5000',
        'x-ratelimit-reset': String(reset),
        'x-ratelimit-resource': kind === 'graphql' ? 'graphql' : 'core',
      },
      text: JSON.stringify({
        message: 'API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.',
        documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        status: String(fault.status || 403),
      }),
    };
  }
  // garbage: a 200 whose JSON body is cut off in the middle
  const text =
    kind === 'graphql'
      ? '{"data":{"rateLimit":{"cost":1,"remaining":4999},"organization":{"membersWithRole":{"pageInfo":{"hasNextPage":tr'
      : '{"login":"octocat","id":1,"node_id":"MDQ6VXNlcjE=","type":"Us';
  return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, text };
}

module.exports = { Faults, faultResponse };
