#!/usr/bin/env python3
"""test_trusted_publishing.py - publishing from GitHub Actions with no stored secret.

The real server, the GitHub stand-in playing GitHub Actions' OIDC issuer
(tests/github-standin/lib/oidc.js) over tests/scenarios/worked-example.json,
and twine and pip as clients:

- the flow as pypa/gh-action-pypi-publish performs it (oidc-exchange.py:
  GET https://{netloc}/_/oidc/audience, the `id` package's GitHub detection
  -- GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=A with "Authorization: bearer
  $ACTIONS_ID_TOKEN_REQUEST_TOKEN" -> {"value"} --, POST {"token"} to
  /_/oidc/mint-token, then `twine upload -u __token__ -p <token>`),
  re-enacted step by step here because the action's code is not ours to
  ship and no test reaches GitHub; plain http instead of https (the action
  hard-codes https://; uv publish keeps the upload URL's scheme);
- every refusal with its own error code (the table of docs/production.md);
- pip reading the repository's own package with the minted token, and
  refused another;
- a minted token after its repository lost the package name, and one
  minted by an installation with another key;
- an ID token exchanged once: on one instance, on two instances sharing
  memcached, and with that memcached down (docs/internals/oidc.md).

worked-example.json: core-lib (id 301) provides acme-core, tools (302)
acme-tools and has an outside collaborator (erin, write), old-client (303)
is archived, docs (304) has no pyproject.toml; the organization is id 9000.
"""

import base64
import json
import os
import re
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dists  # noqa: E402
from harness import (Ghaccess, Memcached, Response, Standin, helpers_of, http_get,  # noqa: E402
                     run_tests, scenario_path, scenario_settings, test, wait_for, workdir)

_index = helpers_of("test_index")
client_env, fresh_dir, http_post = _index.client_env, _index.fresh_dir, _index.http_post
index_url, pip, tokens, twine_upload = (_index.index_url, _index.pip, _index.tokens,
                                        _index.twine_upload)
upload = _index.upload

SCENARIO = scenario_path("worked-example.json")
AUDIENCE = "ghaccess-e2e.example"


def key_file(name, text=None):
    path = os.path.join(workdir(), name)
    with open(path, "w", encoding="utf-8") as file:
        file.write(text or os.urandom(32).hex())
    return path


def start_server(standin, key=None, storage=None, cache=None, name="ghaccess", **trusted):
    settings = scenario_settings(standin, **(cache or {}))
    settings["index"] = {"storage_dir": storage or os.path.join(fresh_dir("storage"), "packages")}
    settings["trusted_publishing"] = {"enabled": "true", "issuer": standin.url + "/oidc",
                                      "audience": AUDIENCE,
                                      "key_file": key or key_file("tp-key-%d" % time.time_ns())}
    settings["trusted_publishing"].update(trusted)
    return Ghaccess(settings, name=name).start()


def id_token(standin, **claims):
    """An ID token from the stand-in's issuer (GET /_standin/oidc/token)."""
    claims.setdefault("audience", AUDIENCE)
    return standin.control("GET", "/_standin/oidc/token?" + urllib.parse.urlencode(claims))["value"]


def mint(server, token, path="/_/oidc/mint-token"):
    response = http_post(server.url, path, json.dumps({"token": token}).encode(),
                         headers={"Content-Type": "application/json"})
    return response, response.json()


def minted(server, standin, **claims):
    response, body = mint(server, id_token(standin, **claims))
    assert response.status == 200, (claims, response)
    assert body["success"] is True and isinstance(body["expires"], int), body
    return body["token"]


def codes(body):
    return [error["code"] for error in body["errors"]]


def assert_refused(server, token, code):
    response, body = mint(server, token)
    assert response.status == 422, (code, response)
    assert body["message"] == "Token request failed", body
    assert codes(body) == [code], (code, body)
    for error in body["errors"]:
        assert error["description"], body
    return body


def action_exchange(server, standin, repository, path="/_/oidc/mint-token"):
    """oidc-exchange.py and twine-upload.sh's trusted publishing steps, in order."""
    # The runtime gives the job ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN (id-token: write).
    job = standin.control("POST", "/_standin/oidc/job", {"repository": repository})
    env = {"GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_URL": job["url"],
           "ACTIONS_ID_TOKEN_REQUEST_TOKEN": job["token"]}
    # repository_domain = urlparse(repository_url).netloc; GET {domain}/_/oidc/audience
    netloc = urllib.parse.urlsplit(server.url + "/legacy/").netloc
    response = http_get("http://" + netloc, "/_/oidc/audience")
    assert response.status == 200, response
    audience = response.json()["audience"]
    # id.detect_credential(audience): GitHub's detector.
    request = urllib.parse.urlsplit(env["ACTIONS_ID_TOKEN_REQUEST_URL"])
    reply = http_get("%s://%s" % (request.scheme, request.netloc), request.path,
                     query=request.query + "&" + urllib.parse.urlencode({"audience": audience}),
                     headers={"Authorization": "bearer " + env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]})
    assert reply.status == 200, reply
    oidc_token = reply.json()["value"]
    # requests.post(token_exchange_url, json={"token": oidc_token})
    response, payload = mint(server, oidc_token, path)
    assert response.ok if hasattr(response, "ok") else response.status == 200, (response, payload)
    assert payload.get("token") is not None, payload
    return payload["token"]


# ---- the action's flow, both endpoints, twine --------------------------------

@test
def action_flow_mints_and_twine_uploads():
    with Standin(SCENARIO) as standin:
        server = start_server(standin)
        directory = fresh_dir("dists")
        wheel = dists.wheel(directory, "acme-core", "1.0.0")
        sdist = dists.sdist(directory, "acme-core", "1.0.0")
        token = action_exchange(server, standin, "acme/core-lib")
        assert token.startswith("gatp1."), token[:6]
        result = twine_upload(server, "__token__", token, wheel)
        assert result.returncode == 0, result.stdout
        # The older endpoint of the action's first releases works the same.
        token = action_exchange(server, standin, "acme/core-lib", "/_/oidc/github/mint-token")
        result = twine_upload(server, "__token__", token, sdist)
        assert result.returncode == 0, result.stdout
        listing = http_get(server.url, "/simple/acme-core/",
                           auth=("olivia", tokens(standin)["olivia"]))
        assert b"acme_core-1.0.0-py3-none-any.whl" in listing.body, listing
        assert b"acme_core-1.0.0.tar.gz" in listing.body, listing

        log = server.log()
        assert token not in log, "a minted token is in the log"
        mints = [line for line in log.splitlines() if "action=mint" in line]
        assert len(mints) == 2 and all("decision=allow" in line for line in mints), mints
        for field in ("repository=core-lib", "repository_id=301",
                      "workflow=acme/core-lib/.github/workflows/release.yml@refs/heads/main",
                      "ref=refs/heads/main", "run_id=", "actor=olivia"):
            assert all(field in line for line in mints), (field, mints)
        uploads = [line for line in log.splitlines()
                   if "action=upload" in line and "via=trusted-publishing" in line]
        assert len(uploads) == 2 and all("decision=allow" in line and "run_id=" in line
                                         and "actor=olivia" in line for line in uploads), uploads
        metrics = http_get(server.url, "/metrics").body.decode()
        assert 'ghaccess_trusted_publishing_mints_total{result="ok",code="ok"} 2' in metrics, metrics
        assert 'ghaccess_trusted_publishing_uploads_total{decision="allow"} 2' in metrics, metrics


@test
def attestations_field_is_accepted_and_dropped():
    """PEP 740: the action (twine --attestations) sends an `attestations`
    form field, a JSON array; the index accepts the upload and keeps only
    the file (it neither stores nor verifies attestations)."""
    with Standin(SCENARIO) as standin:
        server = start_server(standin)
        token = minted(server, standin, repository="acme/core-lib")
        path = dists.wheel(fresh_dir("dists"), "acme-core", "2.0.0")
        with open(path, "rb") as file:
            content = file.read()
        attestation = json.dumps([{"version": 1, "verification_material": {
            "certificate": "MII" + "A" * 2000, "transparency_entries": [{"logIndex": "1"}]},
            "envelope": {"statement": "e30=", "signature": "c2ln"}}])
        form = [(":action", "file_upload"), ("protocol_version", "1"), ("name", "acme-core"),
                ("version", "2.0.0"), ("filetype", "bdist_wheel"),
                ("sha256_digest", dists.sha256_of(path)), ("attestations", attestation)]
        head, content, tail, content_type = dists.multipart_upload_body(
            form, os.path.basename(path), content)
        response = http_post(server.url, "/legacy/", head + content + tail,
                             auth=("__token__", token), headers={"Content-Type": content_type})
        assert response.status == 200, response
        listing = http_get(server.url, "/simple/acme-core/", auth=("__token__", token))
        assert b"acme_core-2.0.0-py3-none-any.whl" in listing.body, listing
        assert b"provenance" not in listing.body, listing


# ---- refusals, each with its own code -----------------------------------------

@test
def refusals_each_with_own_code():
    with Standin(SCENARIO) as standin:
        server = start_server(standin)
        # Well-formed, signed, but not a publisher of this index.
        assert_refused(server, id_token(standin, repository="acme/docs"), "no-package")
        assert_refused(server, id_token(standin, repository="acme/old-client"),
                       "repository-archived")
        assert_refused(server, id_token(standin, repository="octo-org/core-lib"),
                       "wrong-organization")
        body = assert_refused(server, id_token(standin, repository="acme/core-lib",
                                               repository_id="987654"), "repository-id-mismatch")
        assert "987654" in body["errors"][0]["description"], body
        # Not GitHub's word, or not for us.
        assert_refused(server, id_token(standin, repository="acme/core-lib", forge="1"),
                       "invalid-signature")
        assert_refused(server, id_token(standin, repository="acme/core-lib", kid="no-such-key"),
                       "unknown-signing-key")
        assert_refused(server, id_token(standin, repository="acme/core-lib", expires_in="-600"),
                       "expired-token")
        assert_refused(server, id_token(standin, repository="acme/core-lib", audience="pypi"),
                       "invalid-audience")
        assert_refused(server, id_token(standin, repository="acme/core-lib",
                                        issuer="https://token.actions.githubusercontent.com"),
                       "invalid-issuer")
        # A token with its payload swapped for another repository's.
        good = id_token(standin, repository="acme/core-lib").split(".")
        other = id_token(standin, repository="acme/tools").split(".")
        assert_refused(server, ".".join([good[0], other[1], good[2]]), "invalid-signature")
        # alg none, and garbage.
        assert_refused(server, "eyJhbGciOiJub25lIiwia2lkIjoieCJ9." + good[1] + ".", "invalid-payload")
        assert_refused(server, "not a token", "invalid-payload")
        for body in (b"", b"[]", b'{"token": 5}', b'{"token": "a", "token": "b"}'):
            response = http_post(server.url, "/_/oidc/mint-token", body,
                                 headers={"Content-Type": "application/json"})
            assert response.status == 422, (body, response)
            assert codes(response.json()) == ["invalid-payload"], response
        # A body over the front end's limit is refused before it is read.
        response = http_post(server.url, "/_/oidc/mint-token", b"x" * (64 * 1024),
                             headers={"Content-Type": "application/json"})
        assert response.status == 413, response

        # Uploading another repository's package with a good token.
        token = minted(server, standin, repository="acme/core-lib")
        path = dists.wheel(fresh_dir("dists"), "acme-tools", "9.0.0")
        response = upload(server, "__token__", token, path, "acme-tools", "9.0.0")
        assert response.status == 403, response
        assert b"may upload only its package acme-core" in response.body, response
        # __token__ with a personal token, or garbage: no member login through it.
        for password in (tokens(standin)["olivia"], "gatp1.x.y", token[:-4] + "AAAA"):
            response = http_get(server.url, "/simple/", auth=("__token__", password))
            assert response.status == 401, (password[:8], response)
        refused = [line for line in server.log().splitlines()
                   if "action=mint" in line and "decision=deny" in line]
        assert len(refused) >= 12, refused
        metrics = http_get(server.url, "/metrics").body.decode()
        assert 'result="refused",code="invalid-signature"' in metrics, metrics
        assert 'ghaccess_trusted_publishing_uploads_total{decision="deny"} 1' in metrics, metrics


@test
def restrictions_name_the_failed_claim():
    with Standin(SCENARIO) as standin:
        server = start_server(standin, allowed_refs="refs/tags/*",
                              allowed_environments="pypi",
                              allowed_workflows=".github/workflows/release.yml",
                              allowed_events="push, release")
        good = {"repository": "acme/core-lib", "ref": "refs/tags/v1.0.0", "environment": "PyPI",
                "workflow": "release.yml", "event_name": "release"}
        minted(server, standin, **good)
        for change, code, claim in (({"ref": "refs/heads/main"}, "ref-not-allowed", "claim ref"),
                                    ({"environment": ""}, "environment-not-allowed",
                                     "claim environment"),
                                    ({"environment": "staging"}, "environment-not-allowed",
                                     "claim environment"),
                                    ({"workflow": "ci.yml"}, "workflow-not-allowed",
                                     "claim job_workflow_ref"),
                                    ({"event_name": "pull_request"}, "event-not-allowed",
                                     "claim event_name")):
            claims = dict(good, **change)
            body = assert_refused(server, id_token(standin, **claims), code)
            assert body["errors"][0]["description"].startswith(claim), body
        # Everything wrong at once: one error per failed claim.
        response, body = mint(server, id_token(standin, repository="acme/core-lib",
                                               ref="refs/heads/dev", workflow="ci.yml",
                                               event_name="workflow_dispatch"))
        assert response.status == 422, response
        assert codes(body) == ["ref-not-allowed", "environment-not-allowed",
                               "workflow-not-allowed", "event-not-allowed"], body
    # A central reusable workflow, by pattern over job_workflow_ref.
    with Standin(SCENARIO) as standin:
        server = start_server(standin, allowed_workflows="acme/core-lib/.github/workflows/*.yml@refs/tags/*")
        minted(server, standin, repository="acme/core-lib", ref="refs/tags/v2")
        assert_refused(server, id_token(standin, repository="acme/core-lib", ref="refs/heads/main"),
                       "workflow-not-allowed")


# ---- reading with a minted token ------------------------------------------------

@test
def pip_reads_own_package_and_is_refused_another():
    with Standin(SCENARIO) as standin:
        server = start_server(standin)
        secret = tokens(standin)
        directory = fresh_dir("dists")
        core = dists.wheel(directory, "acme-core", "1.0.0")
        tools = dists.wheel(directory, "acme-tools", "1.0.0")
        assert upload(server, "olivia", secret["olivia"], tools, "acme-tools", "1.0.0").status == 200
        token = minted(server, standin, repository="acme/core-lib")
        assert upload(server, "__token__", token, core, "acme-core", "1.0.0").status == 200

        url = index_url(server, "__token__", token)
        target = fresh_dir("target")
        result = pip(client_env(), "install", "--target", target, "--index-url", url, "acme-core")
        assert result.returncode == 0, result.stdout
        assert "acme_core" in os.listdir(target), os.listdir(target)
        result = pip(client_env(), "download", "-d", fresh_dir("downloads"), "--index-url", url,
                     "acme-tools")
        assert result.returncode != 0, result.stdout
        response = http_get(server.url, "/simple/", auth=("__token__", token))
        assert response.status == 200 and b"acme-core" in response.body, response
        assert b"acme-tools" not in response.body, response
        response = http_get(server.url, "/packages/acme-tools/" + os.path.basename(tools),
                            auth=("__token__", token))
        assert response.status == 404, response


@test
def read_grants_follow_the_outside_collaborator_rule():
    """read_grants lets core-lib's workflows read acme-tools; the grant to
    tools is void, since erin (an outside collaborator) has write on tools
    and could make its workflow read acme-core, which GitHub would not let
    her read."""
    with Standin(SCENARIO) as standin:
        server = start_server(standin, read_grants="core-lib:acme-tools, tools:Acme_Core")
        secret = tokens(standin)
        directory = fresh_dir("dists")
        for name, path in (("acme-core", dists.wheel(directory, "acme-core", "1.0.0")),
                           ("acme-tools", dists.wheel(directory, "acme-tools", "1.0.0"))):
            assert upload(server, "olivia", secret["olivia"], path, name, "1.0.0").status == 200
        core = minted(server, standin, repository="acme/core-lib")
        tools = minted(server, standin, repository="acme/tools")
        assert http_get(server.url, "/simple/acme-tools/", auth=("__token__", core)).status == 200
        assert http_get(server.url, "/simple/acme-core/", auth=("__token__", tools)).status == 404
        # A grant reads, never writes.
        path = dists.wheel(directory, "acme-tools", "2.0.0")
        assert upload(server, "__token__", core, path, "acme-tools", "2.0.0").status == 403


# ---- minted tokens are re-checked at every use -------------------------------------

@test
def minted_token_refused_after_the_repository_lost_the_name():
    with Standin(SCENARIO) as standin:
        server = start_server(standin)
        token = minted(server, standin, repository="acme/core-lib")
        path = dists.wheel(fresh_dir("dists"), "acme-core", "1.0.0")
        before = server.health()[1]["synced_at"]
        scenario = json.loads(json.dumps(standin.scenario))
        for repository in scenario["repositories"]:
            if repository["name"] == "core-lib":
                repository["files"]["pyproject.toml"] = "[project]\nname = \"acme-core-ng\"\n"
        standin.set_scenario(scenario)
        time.sleep(1.1)
        server.reload()
        server.wait_health(200, check=lambda body: body["synced_at"] > before)
        response = upload(server, "__token__", token, path, "acme-core", "1.0.0")
        assert response.status == 401, response
        assert b"no longer provides the package it was minted for" in response.body, response
        # Not for the repository's new name either: that needs a new token.
        path = dists.wheel(fresh_dir("dists"), "acme-core-ng", "1.0.0")
        response = upload(server, "__token__", token, path, "acme-core-ng", "1.0.0")
        assert response.status == 401, response
        response = http_get(server.url, "/simple/acme-core/", auth=("__token__", token))
        assert response.status == 401, response
        # A repository that provides nothing at all any more.
        token = minted(server, standin, repository="acme/core-lib")
        scenario = json.loads(json.dumps(standin.scenario))
        for repository in scenario["repositories"]:
            if repository["name"] == "core-lib":
                del repository["files"]["pyproject.toml"]
        before = server.health()[1]["synced_at"]
        standin.set_scenario(scenario)
        time.sleep(1.1)
        server.reload()
        server.wait_health(200, check=lambda body: body["synced_at"] > before)
        response = http_get(server.url, "/simple/acme-core-ng/", auth=("__token__", token))
        assert response.status == 401, response
        assert "reason=\"upload token refused: repository core-lib provides no package" in \
            server.log(), server.log()


@test
def minted_token_rechecked_at_commit_of_a_long_upload():
    """The repository loses the name while its upload streams: refused at
    commit, nothing stored (the second decision of every upload)."""
    from test_upload_limits import Upload, temporary_files, wheel_form
    with Standin(SCENARIO) as standin:
        server = start_server(standin)
        token = minted(server, standin, repository="acme/core-lib")
        body, content_type, filename = wheel_form(fresh_dir("dists"), "acme-core", "9.0", 2 << 20)
        upload = Upload(server, "__token__", token, body, content_type)
        upload.send(1 << 20)
        wait_for(lambda: sum(temporary_files(server).values()) > 0, what="the upload to stream")
        before = server.health()[1]["synced_at"]
        scenario = json.loads(json.dumps(standin.scenario))
        for repository in scenario["repositories"]:
            if repository["name"] == "core-lib":
                repository["files"]["pyproject.toml"] = "[project]\nname = \"acme-core-ng\"\n"
        standin.set_scenario(scenario)
        time.sleep(1.1)
        server.reload()
        server.wait_health(200, check=lambda body: body["synced_at"] > before)
        status, reason, _, text = upload.finish()
        assert status == 403, (status, reason, text)
        assert "no longer provides it" in reason, reason
        storage = server.settings["index"]["storage_dir"]
        directory = os.path.join(storage, "acme-core")
        assert not os.path.isdir(directory) or filename not in os.listdir(directory)


@test
def minted_token_from_another_installation_key():
    with Standin(SCENARIO) as standin:
        shared = key_file("shared-key")
        first = start_server(standin, key=shared)
        second = start_server(standin, key=shared)
        third = start_server(standin)
        token = minted(first, standin, repository="acme/core-lib")
        directory = fresh_dir("dists")
        # Behind a load balancer: minted on one instance, used on another.
        path = dists.wheel(directory, "acme-core", "1.0.0")
        assert upload(second, "__token__", token, path, "acme-core", "1.0.0").status == 200
        path = dists.wheel(directory, "acme-core", "1.0.1")
        response = upload(third, "__token__", token, path, "acme-core", "1.0.1")
        assert response.status == 401, response
        assert b"bad signature" in response.body, response


# ---- an ID token is exchanged once ------------------------------------------------

def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def assert_reused(server, token, path="/_/oidc/mint-token"):
    """warehouse's answer to a reused token (warehouse/oidc/views.py)."""
    response, body = mint(server, token, path)
    assert response.status == 422, (path, response)
    assert body["message"] == "Token request failed", body
    assert codes(body) == ["invalid-reuse-token"], body
    assert body["errors"][0]["description"].startswith("invalid token: already used"), body
    assert "token" not in body, body


@test
def id_token_is_exchanged_once():
    """A leaked ID token cannot be exchanged again within its life: the
    second exchange is refused whichever path either used, a burst of
    concurrent exchanges of one token mints once, and a token without the
    jti GitHub always sends is refused."""
    with Standin(SCENARIO) as standin:
        server = start_server(standin)
        token = id_token(standin, repository="acme/core-lib")
        response, body = mint(server, token)
        assert response.status == 200, response
        assert_reused(server, token)
        assert_reused(server, token, "/_/oidc/github/mint-token")
        token = id_token(standin, repository="acme/core-lib")
        response, body = mint(server, token, "/_/oidc/github/mint-token")
        assert response.status == 200, response
        assert_reused(server, token)

        # Eight exchanges of one new token at once: one upload token.
        token = id_token(standin, repository="acme/core-lib")
        statuses = []
        start = threading.Event()

        def exchange():
            start.wait()
            statuses.append(mint(server, token)[0].status)
        threads = [threading.Thread(target=exchange) for _ in range(8)]
        for thread in threads:
            thread.start()
        start.set()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200] + [422] * 7, statuses

        # A token refused for another reason keeps its jti unused: the
        # refusal names that reason, not reuse, every time.
        token = id_token(standin, repository="acme/old-client")
        assert_refused(server, token, "repository-archived")
        assert_refused(server, token, "repository-archived")
        # GitHub always sends a jti: a signed token without one is refused.
        body = assert_refused(server, id_token(standin, repository="acme/core-lib", omit="jti"),
                              "missing-claim")
        assert "jti" in body["errors"][0]["description"], body

        log = server.log()
        reused = [line for line in log.splitlines()
                  if "action=mint" in line and "reason=invalid-reuse-token" in line]
        assert len(reused) == 3 + 7, reused
        assert all("decision=deny" in line and "repository=core-lib" in line for line in reused)
        allowed = [line for line in log.splitlines()
                   if "action=mint" in line and "decision=allow" in line]
        assert len(allowed) == 3 and all("jti_claim=ok" in line for line in allowed), allowed
        metrics = http_get(server.url, "/metrics").body.decode()
        assert ('ghaccess_trusted_publishing_mints_total{result="refused",'
                'code="invalid-reuse-token"} 10') in metrics, metrics
        assert "ghaccess_trusted_publishing_unshared_claims_total" not in metrics, metrics


def memcache_options(memcached):
    """[cache] for instances sharing memcached (one secret file for all)."""
    secret_file = os.path.join(workdir(), "cache.secret")
    if not os.path.exists(secret_file):
        key_file("cache.secret")
        os.chmod(secret_file, 0o600)
    return {"backend": "memcache", "memcache.url": "127.0.0.1:%d" % memcached.port,
            "secret_file": secret_file}


def two_instances(standin, memcached):
    """Two instances behind one load balancer: one memcached, one minting key."""
    shared_key = key_file("tp-shared-key-%d" % time.time_ns())
    cache = memcache_options(memcached)
    return (start_server(standin, key=shared_key, cache=cache, name="first"),
            start_server(standin, key=shared_key, cache=cache, name="second"))


@test
def instances_sharing_memcached_exchange_a_token_once():
    """Behind a load balancer the stolen copy goes to another instance:
    that instance refuses it too (memcached's add of the jti's claim)."""
    memcached = Memcached()
    with Standin(SCENARIO) as standin:
        first, second = two_instances(standin, memcached)
        token = id_token(standin, repository="acme/core-lib")
        response, body = mint(first, token)
        assert response.status == 200, response
        assert_reused(second, token)
        assert_reused(second, token, "/_/oidc/github/mint-token")
        assert_reused(first, token)
        token = id_token(standin, repository="acme/core-lib")
        response, body = mint(second, token, "/_/oidc/github/mint-token")
        assert response.status == 200, response
        assert_reused(first, token)

        # The claims are in memcached under HMACs: no jti in a key or value.
        keys = [key for key in memcached.keys() if key.startswith("ghaccess:v1:claim:")]
        assert len(keys) == 2, memcached.keys()
        jti = claims_of(token)["jti"]
        for key in memcached.keys():
            assert jti not in key, key
            value = memcached.get(key) or b""
            assert jti.encode() not in value, key
        for server in (first, second):
            allowed = [line for line in server.log().splitlines()
                       if "action=mint" in line and "decision=allow" in line]
            assert len(allowed) == 1 and "jti_claim=ok" in allowed[0], allowed


@test
def memcached_down_each_instance_refuses_its_own_reuse():
    """memcached down: a mint goes on with the claim in the instance's own
    memory (refusing every CI job until memcached returns would lock out
    every publisher), says so in its audit line and a counter, and that
    instance still refuses the token again.  The documented limit: an
    instance that never saw the token accepts it while memcached is down."""
    memcached = Memcached()
    with Standin(SCENARIO) as standin:
        first, second = two_instances(standin, memcached)
        memcached.stop()
        token = id_token(standin, repository="acme/core-lib")
        response, body = mint(first, token)
        assert response.status == 200, response
        assert_reused(first, token)
        assert_reused(first, token, "/_/oidc/github/mint-token")
        line = [line for line in first.log().splitlines()
                if "action=mint" in line and "decision=allow" in line]
        assert len(line) == 1 and "jti_claim=local" in line[0], line
        metrics = http_get(first.url, "/metrics").body.decode()
        assert "ghaccess_trusted_publishing_unshared_claims_total 1" in metrics, metrics
        # The limit, as docs/production.md states it.
        response, body = mint(second, token)
        assert response.status == 200, response
        assert_reused(second, token)


@test
def off_unless_enabled():
    with Standin(SCENARIO) as standin:
        settings = scenario_settings(standin)
        settings["index"] = {"storage_dir": os.path.join(fresh_dir("storage"), "packages")}
        server = Ghaccess(settings).start()
        assert http_get(server.url, "/_/oidc/audience").status == 404
        response = http_post(server.url, "/_/oidc/mint-token", b'{"token": "x"}',
                             headers={"Content-Type": "application/json"})
        assert response.status == 404, response
        assert http_get(server.url, "/simple/", auth=("__token__", "gatp1.a.b")).status == 401


@test
def unknown_kids_do_not_hammer_the_issuer():
    with Standin(SCENARIO) as standin:
        server = start_server(standin)
        minted(server, standin, repository="acme/core-lib")
        fetched = standin.stats()["oidc_key_requests"]
        assert fetched == 2, fetched     # discovery + key set, once
        for i in range(20):
            assert_refused(server, id_token(standin, repository="acme/core-lib", kid="k%d" % i),
                           "unknown-signing-key")
        minted(server, standin, repository="acme/core-lib")
        assert standin.stats()["oidc_key_requests"] == fetched, standin.stats()


@test
def issuer_down_is_a_retryable_refusal():
    with Standin(SCENARIO) as standin:
        server = start_server(standin)
        standin.fault("down", target="oidc")
        response, body = mint(server, id_token(standin, repository="acme/core-lib"))
        assert response.status == 503, response
        assert codes(body) == ["issuer-unavailable"], body
        assert response.headers.get("retry-after"), response.headers
        standin.clear_fault()


run_tests()
