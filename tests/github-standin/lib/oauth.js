'use strict';
// GitHub's OAuth web flow, as documented for OAuth Apps and GitHub Apps:
//   GET  /login/oauth/authorize     -> 302 to redirect_uri?code=…&state=…
//   POST /login/oauth/access_token  -> {"access_token","token_type","scope"}
// on the web host (never under the API prefix). The signed-in user is the
// "configured test user" (POST /_standin/oauth {"login"}); null plays a user
// who clicks Cancel. See README.md (OAuth web flow) for the pages cited.

const crypto = require('node:crypto');

const CODE_TTL_MS = 10 * 60 * 1000; // "The temporary code will expire after 10 minutes."
const DOCS_TOKEN_ERRORS =
  'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';
const DOCS_AUTHORIZE_ERRORS =
  'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors';

class OAuth {
  constructor() {
    this.configure({});
    this.codes = new Map(); // code -> {clientId, redirectUri, challenge, user, expires, used}
    this.authorizations = 0;
    this.exchanges = 0;
    this.tokensIssued = 0;
  }

  /** {client_id, client_secret, callback_url, login, kind: "oauth_app"|"github_app"} */
  configure(o) {
    this.clientId = o.client_id || null;
    this.clientSecret = o.client_secret || null;
    this.callbackUrl = o.callback_url || null;
    this.login = o.login === undefined ? null : o.login;
    this.kind = o.kind === 'github_app' ? 'github_app' : 'oauth_app';
    // false: the user signs in without an active SAML session, so the token
    // GitHub issues is not authorized for the organization's SSO (README,
    // "SAML SSO"); GET /user accepts it, the organization refuses it.
    this.ssoAuthorized = o.sso_authorized !== false;
    return this.describe();
  }

  describe() {
    return {
      client_id: this.clientId,
      callback_url: this.callbackUrl,
      login: this.login,
      kind: this.kind,
      sso_authorized: this.ssoAuthorized,
      authorizations: this.authorizations,
      exchanges: this.exchanges,
      tokens_issued: this.tokensIssued,
    };
  }

  /** GitHub Apps: an exact match with a callback URL; OAuth Apps: same host and port, path under the callback's. */
  redirectAllowed(uri) {
    if (!this.callbackUrl) return true;
    if (this.kind === 'github_app') return uri === this.callbackUrl;
    let a;
    let b;
    try {
      a = new URL(uri);
      b = new URL(this.callbackUrl);
    } catch {
      return false;
    }
    return a.protocol === b.protocol && a.host === b.host && (a.pathname === b.pathname || a.pathname.startsWith(`${b.pathname.replace(/\/$/, '')}/`));
  }

  /** GET /login/oauth/authorize -> {status, headers, text} */
  authorize(state, query) {
    const html = (status, text) => ({ status, headers: { 'content-type': 'text/html; charset=utf-8' }, text });
    const clientId = query.get('client_id');
    if (!this.clientId || clientId !== this.clientId) return html(404, '<html><body>Not Found</body></html>\n');
    const redirectUri = query.get('redirect_uri') || this.callbackUrl;
    const st = query.get('state');
    const back = (base, params) => {
      const url = new URL(base);
      for (const [k, v] of Object.entries(params)) if (v != null) url.searchParams.set(k, v);
      return { status: 302, headers: { location: url.toString(), 'content-type': 'text/html; charset=utf-8' }, text: '' };
    };
    if (!redirectUri) return html(400, '<html><body>No redirect_uri and no callback URL</body></html>\n');
    if (!this.redirectAllowed(redirectUri)) {
      // The user is sent to the registered callback URL with the error.
      return back(this.callbackUrl, {
        error: 'redirect_uri_mismatch',
        error_description: 'The redirect_uri MUST match the registered callback URL for this application.',
        error_uri: `${DOCS_AUTHORIZE_ERRORS}#redirect-uri-mismatch`,
        state: st,
      });
    }
    const challenge = query.get('code_challenge');
    const method = query.get('code_challenge_method');
    // PKCE: each is "Required if the other is included"; "Must be S256".
    if ((challenge && !method) || (!challenge && method) || (method && method !== 'S256') ||
        (challenge && !/^[A-Za-z0-9_-]{43}$/.test(challenge))) {
      return back(redirectUri, { error: 'invalid_request', error_description: 'Invalid PKCE code_challenge or code_challenge_method.', state: st });
    }
    this.authorizations++;
    // `login` "suggests a specific account to use for signing in": the
    // stand-in's user signs in with it when it names a known account.
    const suggested = query.get('login');
    const who = suggested && state.userByLogin.has(suggested.toLowerCase()) && this.login != null ? suggested : this.login;
    const user = who == null ? null : state.userByLogin.get(String(who).toLowerCase());
    if (!user) {
      return back(redirectUri, {
        error: 'access_denied',
        error_description: 'The user has denied your application access.',
        error_uri: `${DOCS_AUTHORIZE_ERRORS}#access-denied`,
        state: st,
      });
    }
    const code = crypto.randomBytes(10).toString('hex'); // 20 characters, like GitHub's
    this.codes.set(code, { clientId, redirectUri, challenge: challenge || null, user, expires: Date.now() + CODE_TTL_MS, used: false });
    return back(redirectUri, { code, state: st });
  }

  /** POST /login/oauth/access_token; params from the query and the body (form or JSON). */
  exchange(state, query, body, contentType, accept) {
    const p = new Map(query);
    if (body) {
      if (/^application\/json/i.test(contentType || '')) {
        try {
          for (const [k, v] of Object.entries(JSON.parse(body))) p.set(k, String(v));
        } catch {
          /* an unreadable body adds nothing */
        }
      } else {
        for (const [k, v] of new URLSearchParams(body)) p.set(k, v);
      }
    }
    this.exchanges++;
    const answer = (obj) => {
      if (/application\/json/i.test(accept || '')) return { status: 200, headers: {}, text: JSON.stringify(obj) };
      return { status: 200, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, text: new URLSearchParams(obj).toString() };
    };
    const error = (code, description, anchor) => answer({ error: code, error_description: description, error_uri: `${DOCS_TOKEN_ERRORS}#${anchor}` });
    if (!this.clientId || p.get('client_id') !== this.clientId || p.get('client_secret') !== this.clientSecret) {
      return error('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.', 'incorrect-client-credentials');
    }
    const grant = this.codes.get(p.get('code') || '');
    const badCode = () => error('bad_verification_code', 'The code passed is incorrect or expired.', 'bad-verification-code');
    if (!grant || grant.used || grant.expires <= Date.now() || grant.clientId !== this.clientId) return badCode();
    if (p.has('redirect_uri') && p.get('redirect_uri') !== grant.redirectUri) {
      return error('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.', 'redirect-uri-mismatch2');
    }
    // "Required if code_challenge was sent": a missing or wrong verifier is a
    // code that does not verify (GitHub documents no separate error code).
    if (grant.challenge) {
      const verifier = p.get('code_verifier') || '';
      const computed = crypto.createHash('sha256').update(verifier).digest('base64url');
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || computed !== grant.challenge) return badCode();
    }
    grant.used = true; // single use
    const prefix = this.kind === 'github_app' ? 'ghu_' : 'gho_';
    const token = prefix + crypto.randomBytes(18).toString('hex').slice(0, 36);
    state.userByToken.set(token, grant.user);
    if (!this.ssoAuthorized) state.tokensWithoutSso.add(token);
    this.tokensIssued++;
    return answer({ access_token: token, token_type: 'bearer', scope: '' });
  }
}

module.exports = { OAuth };
