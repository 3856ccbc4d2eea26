'use strict';
// Tokens: the scenario's server token, users' personal tokens, GitHub App
// JWTs and the installation tokens they buy. Also the rate-limit budgets.

const crypto = require('node:crypto');
const { nodeId } = require('./state');

const FULL_SCOPES = ['repo', 'read:org', 'admin:org'];
const USER_SCOPES = ['repo', 'read:org'];
// The first installation id; a reinstall (POST /_standin/app/installation)
// gets the next one, as GitHub gives every installation a new id.
const INSTALLATION_ID = 4242;

/** Authorization header -> token string, or null (absent/unsupported). */
function tokenFromHeader(h) {
  if (typeof h !== 'string') return null;
  let m = /^\s*(?:bearer|token)\s+(\S+)\s*$/i.exec(h);
  if (m) return m[1];
  m = /^\s*basic\s+(\S+)\s*$/i.exec(h);
  if (m) {
    const dec = Buffer.from(m[1], 'base64').toString('utf8');
    const i = dec.indexOf(':');
    return i >= 0 ? dec.slice(i + 1) : null;
  }
  return '';
}

function b64urlJson(part) {
  return JSON.parse(Buffer.from(part.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
}

class Auth {
  constructor({ appId, appClientId, appPublicKeyPem, appTokenTtl }) {
    this.appId = appId != null ? String(appId) : null;
    this.appClientId = appClientId || null;
    this.publicKey = appPublicKeyPem ? crypto.createPublicKey(appPublicKeyPem) : null;
    this.appTokenTtl = appTokenTtl || 3600;
    this.installationTokens = new Map(); // token -> {expiresAt (ms), installationId}
    this.installationId = INSTALLATION_ID;
    this.installed = true;
  }

  /*
   * The App's installation on the organization changes: "uninstall" (GET
   * /orgs/{org}/installation and the old id's token requests answer 404),
   * "install" (a new installation id), "reinstall" (both). Tokens of the
   * old installation stop working (401), as GitHub revokes them with it.
   * id (optional) chooses the new installation id.
   */
  changeInstallation(action, id) {
    if (!['uninstall', 'install', 'reinstall'].includes(action)) {
      throw Object.assign(new Error('action must be "uninstall", "install" or "reinstall"'), { status: 400 });
    }
    if (id !== undefined && (!Number.isInteger(id) || id <= 0)) {
      throw Object.assign(new Error('id must be a positive integer'), { status: 400 });
    }
    this.installationTokens.clear();
    if (action === 'uninstall') {
      this.installed = false;
    } else {
      this.installationId = id !== undefined ? id : this.installationId + 1;
      this.installed = true;
    }
    return { installation_id: this.installed ? this.installationId : null, installed: this.installed };
  }

  get appMode() {
    return !!(this.appId && this.publicKey);
  }

  serverUser(state) {
    const su = state.scenario.server_user || {};
    if (!this._serverUser || this._serverUserState !== state) {
      const id = Number.isInteger(su.id) ? su.id : 999999;
      this._serverUser = {
        __typename: 'User',
        login: su.login || 'server-bot',
        databaseId: id,
        name: su.name || 'Server Bot',
        email: '',
        orgRole: null,
        tokens: [state.serverToken],
        tokenExpiration: su.token_expiration || '2027-10-12 09:00:00 UTC',
        index: -1,
        nodeId: nodeId('User', id),
      };
      this._serverUserState = state;
    }
    return this._serverUser;
  }

  /** token -> principal {kind: server|user|installation, token, user, scopes:Set} or null */
  principal(state, token) {
    if (!token) return null;
    if (state.serverToken && token === state.serverToken) {
      return { kind: 'server', token, user: this.serverUser(state), scopes: new Set(state.serverTokenScopes) };
    }
    const user = state.userByToken.get(token);
    if (user) {
      // ssoAuthorized: false for a token the organization's SAML SSO refuses.
      const ssoAuthorized = !(state.org.samlSso && state.tokensWithoutSso.has(token));
      return { kind: 'user', token, user, scopes: new Set(USER_SCOPES), ssoAuthorized };
    }
    const inst = this.installationTokens.get(token);
    if (inst) {
      if (inst.expiresAt > Date.now()) return { kind: 'installation', token, user: null, scopes: new Set(FULL_SCOPES) };
      this.installationTokens.delete(token);
    }
    return null;
  }

  /** Verify a GitHub App JWT. -> {ok:true, claims} | {ok:false, message} */
  verifyJwt(token) {
    const fail = (message) => ({ ok: false, message });
    if (!this.appMode) return fail('A JSON web token could not be decoded');
    const parts = String(token || '').split('.');
    if (parts.length !== 3) return fail('A JSON web token could not be decoded');
    let header;
    let claims;
    try {
      header = b64urlJson(parts[0]);
      claims = b64urlJson(parts[1]);
    } catch {
      return fail('A JSON web token could not be decoded');
    }
    if (!header || header.alg !== 'RS256') return fail('A JSON web token could not be decoded');
    const sig = Buffer.from(parts[2].replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    let good = false;
    try {
      good = crypto.verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, sig);
    } catch {
      good = false;
    }
    if (!good) return fail('A JSON web token could not be decoded');
    const now = Math.floor(Date.now() / 1000);
    const iss = claims.iss == null ? '' : String(claims.iss);
    if (iss !== this.appId && !(this.appClientId && iss === this.appClientId)) {
      return fail('Integration not found');
    }
    if (!Number.isInteger(claims.iat) || claims.iat > now + 60) {
      return fail("'Issued at' claim ('iat') must be an Integer representing a time in the past");
    }
    if (!Number.isInteger(claims.exp) || claims.exp <= now) {
      return fail(
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
      );
    }
    if (claims.exp - claims.iat > 660) return fail("'Expiration time' claim ('exp') is too far in the future");
    return { ok: true, claims };
  }

  issueInstallationToken() {
    const token = `ghs_${crypto.randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36)}`;
    const expiresAt = Date.now() + this.appTokenTtl * 1000;
    this.installationTokens.set(token, { expiresAt, installationId: this.installationId });
    return { token, expiresAt };
  }
}

// ---------- rate-limit budgets: one per (resource, key), hourly windows

class Budgets {
  constructor(limits) {
    this.limits = limits; // {graphql: N, core: N}
    this.map = new Map();
  }

  get(resource, key, limitOverride) {
    const k = `${resource}\u0000${key}`;
    const now = Math.floor(Date.now() / 1000);
    let b = this.map.get(k);
    if (!b || now >= b.reset) {
      b = { resource, limit: limitOverride || this.limits[resource] || 5000, used: 0, reset: now + 3600 };
      this.map.set(k, b);
    }
    return b;
  }

  remaining(b) {
    return Math.max(0, b.limit - b.used);
  }

  headers(b) {
    return {
      'x-ratelimit-limit': String(b.limit),
      'x-ratelimit-remaining': String(this.remaining(b)),
      'x-ratelimit-reset': String(b.reset),
      'x-ratelimit-used': String(b.used),
      'x-ratelimit-resource': b.resource,
    };
  }

  reset() {
    this.map.clear();
  }
}

module.exports = { Auth, Budgets, tokenFromHeader, INSTALLATION_ID, FULL_SCOPES, USER_SCOPES };
