'use strict';
// GitHub Actions' OIDC issuer, as GitHub documents it ("About security
// hardening with OpenID Connect", "OpenID Connect reference"; see README.md):
// the discovery document and JWKS of the issuer {stand-in}/oidc, ID tokens
// (RS256 JWT) with GitHub's claims for a repository of the scenario, and the
// Actions runtime's token request endpoint (ACTIONS_ID_TOKEN_REQUEST_URL with
// ACTIONS_ID_TOKEN_REQUEST_TOKEN as a bearer token).

const crypto = require('node:crypto');

const TOKEN_LIFETIME = 300; // GitHub's documented example: exp = iat + 5 minutes

function b64url(buf) {
  return Buffer.from(buf).toString('base64url');
}

function newKey() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  // RFC 7638 thumbprint as the key id.
  const kid = b64url(crypto.createHash('sha256').update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n })).digest());
  return { privateKey, jwk, kid };
}

function sign(key, header, claims) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = crypto.sign('sha256', Buffer.from(input), key.privateKey);
  return `${input}.${b64url(signature)}`;
}

function httpError(status, message) {
  return Object.assign(new Error(message), { status });
}

// A stable positive id for a name the scenario does not know (another
// organization's repository): the same name always gets the same id.
function syntheticId(text) {
  return 80000000 + (crypto.createHash('sha256').update(text).digest().readUInt32BE(0) % 10000000);
}

class OidcIssuer {
  constructor() {
    this.key = newKey();
    this.forgeKey = newKey(); // never published: forge=1 signs with it
    this.jobs = new Map(); // job id -> { token, params }
    this.issued = 0;
  }

  issuerUrl(base) {
    return `${base}/oidc`;
  }

  discovery(base) {
    const issuer = this.issuerUrl(base);
    return {
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks`,
      subject_types_supported: ['public', 'pairwise'],
      response_types_supported: ['id_token'],
      claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'ref', 'sha', 'repository', 'repository_id',
        'repository_owner', 'repository_owner_id', 'run_id', 'run_number', 'run_attempt', 'actor', 'actor_id',
        'workflow', 'workflow_ref', 'workflow_sha', 'head_ref', 'base_ref', 'event_name', 'ref_type', 'environment',
        'job_workflow_ref', 'job_workflow_sha', 'repository_visibility', 'runner_environment'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid'],
    };
  }

  jwks() {
    const { n, e } = this.key.jwk;
    return { keys: [{ kty: 'RSA', alg: 'RS256', use: 'sig', kid: this.key.kid, n, e }] };
  }

  // params: a URLSearchParams-like get(name); see README.md for the names.
  token(state, base, params) {
    const get = (name) => {
      const v = params.get(name);
      return v === null || v === undefined || v === '' ? null : String(v);
    };
    const repository = get('repository');
    if (!repository || !/^[^/]+\/[^/]+$/.test(repository)) throw httpError(400, 'repository=OWNER/NAME is required');
    const [owner, name] = repository.split('/');
    const ours = owner.toLowerCase() === state.org.login.toLowerCase();
    const repo = ours ? state.repo(name) : null;
    if (ours && !repo) throw httpError(404, `no repository ${repository} in the scenario`);
    const ownerLogin = ours ? state.org.login : owner;
    const repoName = repo ? repo.name : name;
    const fullName = `${ownerLogin}/${repoName}`;
    const ref = get('ref') || `refs/heads/${repo ? repo.defaultBranch : 'main'}`;
    const workflowFile = (get('workflow') || 'release.yml').replace(/^\.github\/workflows\//, '');
    const workflowRef = `${fullName}/.github/workflows/${workflowFile}@${ref}`;
    const environment = get('environment');
    const eventName = get('event_name') || 'push';
    const actorLogin = get('actor') || (state.users[0] ? state.users[0].login : 'octocat');
    const actorUser = state.userByLogin.get(actorLogin.toLowerCase());
    const expiresIn = get('expires_in') !== null ? Number(get('expires_in')) : TOKEN_LIFETIME;
    if (!Number.isFinite(expiresIn)) throw httpError(400, 'expires_in must be a number of seconds');
    const now = Math.floor(Date.now() / 1000);
    const exp = now + Math.trunc(expiresIn);
    const iat = Math.min(now, exp - TOKEN_LIFETIME);
    const refType = ref.startsWith('refs/tags/') ? 'tag' : 'branch';
    let sub = `repo:${fullName}:ref:${ref}`;
    if (environment) sub = `repo:${fullName}:environment:${environment}`;
    else if (eventName === 'pull_request') sub = `repo:${fullName}:pull_request`;
    const sha = crypto.randomBytes(20).toString('hex');
    const claims = {
      jti: crypto.randomUUID(),
      sub,
      aud: get('audience') || `https://github.com/${ownerLogin}`,
      ref,
      sha,
      repository: fullName,
      repository_owner: ownerLogin,
      repository_owner_id: String(ours ? state.org.databaseId : syntheticId(`org:${owner}`)),
      repository_visibility: repo && !repo.isPrivate ? 'public' : 'private',
      repository_id: get('repository_id') || String(repo ? repo.databaseId : syntheticId(`repo:${fullName}`)),
      run_id: String(1000000000 + (this.issued % 1000000)),
      run_number: String(1 + (this.issued % 1000)),
      run_attempt: '1',
      runner_environment: 'github-hosted',
      actor: actorLogin,
      actor_id: String(actorUser ? actorUser.databaseId : syntheticId(`user:${actorLogin}`)),
      workflow: workflowFile.replace(/\.ya?ml$/, ''),
      workflow_ref: workflowRef,
      workflow_sha: sha,
      job_workflow_ref: workflowRef,
      job_workflow_sha: sha,
      head_ref: '',
      base_ref: '',
      event_name: eventName,
      ref_type: refType,
      iss: get('issuer') || this.issuerUrl(base),
      nbf: iat - 600, // as in GitHub's documented example token
      exp,
      iat,
    };
    if (environment) claims.environment = environment;
    // omit=jti,run_id: a token GitHub would not send (it always sends
    // these), still signed with the issuer's key.
    for (const name of (get('omit') || '').split(',').map((n) => n.trim()).filter(Boolean)) {
      delete claims[name];
    }
    const forge = get('forge') === '1';
    const header = { typ: 'JWT', alg: 'RS256', x5t: this.key.kid.slice(0, 27), kid: get('kid') || this.key.kid };
    this.issued++;
    return { value: sign(forge ? this.forgeKey : this.key, header, claims), claims };
  }

  // The runtime's request endpoint: a job gets a URL (with ?api-version=,
  // so clients append &audience=) and a bearer token.
  createJob(base, params) {
    const id = crypto.randomBytes(8).toString('hex');
    const token = `standin-runtime-${crypto.randomBytes(16).toString('hex')}`;
    this.jobs.set(id, { token, params: Object.assign({}, params) });
    return { url: `${base}/_standin/oidc/request?job=${id}&api-version=2.0`, token };
  }

  request(state, base, searchParams, authorization) {
    const job = this.jobs.get(searchParams.get('job') || '');
    const m = /^bearer\s+(\S+)$/i.exec(authorization || '');
    if (!job || !m || m[1] !== job.token) throw httpError(401, 'Bad credentials');
    const params = new Map(Object.entries(job.params).map(([k, v]) => [k, String(v)]));
    if (searchParams.get('audience') !== null) params.set('audience', searchParams.get('audience'));
    return { value: this.token(state, base, params).value };
  }
}

module.exports = { OidcIssuer };
