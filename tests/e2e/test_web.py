#!/usr/bin/env python3
"""test_web.py - the web pages, end to end: sign in with GitHub, packages, why, sign out.

The real server against the GitHub stand-in, which plays GitHub's OAuth
endpoints for a configured test user (POST /_standin/oauth).  The browser
tests drive Debian's headless Chromium over the DevTools protocol
(browser.py) and save a screenshot of each page under build/web/; the
attack tests speak HTTP directly, with cookies signed here with the test's
own key (the format of src/http/http_web_session.c) to forge, tamper with
and expire them.  Run by tests/suites/web-e2e.sh;
`python3 tests/e2e/test_web.py [TEST...]` runs some tests alone.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from browser import Browser  # noqa: E402
from dists import wheel  # noqa: E402
from harness import (  # noqa: E402
    BUILD, GHACCESS, ROOT, Ghaccess, Standin, helpers_of, load_scenario, run_tests,
    scenario_path, scenario_paths, scenario_settings, test, token_of, wait_for, workdir,
)

WORKED = "worked-example.json"
CLIENT_ID = "Iv1.0123456789abcdef"
CLIENT_SECRET = "client-secret-never-logged-0123456789abcdef"
SESSION_KEY = "web-session-key-for-tests-only-0123456789abcdef"
WEBHOOK_SECRET = "webhook-secret-never-logged-0123456789"
SHOTS = os.path.join(BUILD, "web")
COOKIE = "ghaccess_session"          # cookie_secure = false: no __Host- prefix
SIGNIN_COOKIE = "ghaccess_signin"
LIFETIME = 28800


# ---- set-up -------------------------------------------------------------------

def secret(name, text):
    path = os.path.join(workdir(), name)
    with open(path, "w", encoding="ascii") as file:
        file.write(text + "\n")
    os.chmod(path, 0o600)
    return path


def seed_storage(directory, scenario):
    """Three versions of every package of the scenario (1.1.0 yanked with a
    reason that holds HTML, 2.0rc1 a pre-release), as the index stores them."""
    for index, name in enumerate(sorted(scenario.get("expect", {}).get("packages", {}))):
        project = os.path.join(directory, name)
        os.makedirs(project, exist_ok=True)
        for version, yanked in (("1.0.0", False), ("1.1.0", True), ("2.0rc1", False)):
            path = wheel(project, name, version, requires_python=">=3.9")
            data = open(path, "rb").read()
            record = {"filename": os.path.basename(path),
                      "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                      "requires_python": ">=3.9", "uploader": "olivia",
                      "uploaded_at": 1767225600 + index, "yanked": yanked,
                      "yanked_reason": "<img src=x onerror=alert(1)> broken" if yanked else None}
            with open(path + ".meta.json", "w", encoding="utf-8") as file:
                json.dump(record, file)


class WebServer(Ghaccess):
    """ghaccess serve with [web] url filled in once its port is known."""

    def write_config(self):
        self.settings["web"]["url"] = self.url
        super().write_config()


def start(scenario=WORKED, login="bob", storage=True, webhook=False, github_settings=None,
          **web):
    standin = Standin(scenario_path(scenario) if isinstance(scenario, str) else scenario)
    settings = scenario_settings(standin)
    settings["github"].update(github_settings or {})
    settings["web"] = {
        "client_id": CLIENT_ID,
        "client_secret_file": secret("client.secret", CLIENT_SECRET),
        "session_key_file": secret("session.key", SESSION_KEY),
        "github_url": standin.url,
        "cookie_secure": False,
    }
    settings["web"].update(web)
    if storage:
        directory = os.path.join(workdir(), "storage-%d" % time.monotonic_ns())
        seed_storage(directory, standin.scenario)
        settings["index"] = {"storage_dir": directory}
    if webhook:
        settings["webhook"] = {"secret_file": secret("webhook.secret", WEBHOOK_SECRET)}
    server = WebServer(settings).start()
    standin.control("POST", "/_standin/oauth", {
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "kind": "github_app",
        "callback_url": server.url + "/login/callback", "login": login})
    return standin, server


def sign_in_as(standin, login):
    standin.control("POST", "/_standin/oauth", {
        **{k: v for k, v in standin.control("GET", "/_standin/oauth").items()
           if k in ("client_id", "callback_url", "kind")},
        "client_secret": CLIENT_SECRET, "login": login})


def expected_rows(scenario, user):
    """{package: "read" | "read and write"} from the scenario's expect part."""
    rows = {}
    for entry in scenario["expect"].get("permissions", []):
        if entry["user"] == user and "read" in entry["permissions"]:
            rows[entry["package"]] = ("read and write" if "write" in entry["permissions"]
                                      else "read")
    return rows


def members(scenario):
    return [u["login"] for u in scenario["users"] if u.get("org_role")]


def secret_words(scenario):
    """What a signed-out page must never show: the organization, its
    packages, repositories, teams and members."""
    words = {scenario["organization"]["login"]}
    words.update(scenario.get("expect", {}).get("packages", {}).keys())
    words.update(r["name"] for r in scenario["repositories"])
    words.update(t["slug"] for t in scenario.get("teams", []))
    words.update(u["login"] for u in scenario["users"])
    return {w for w in words if len(w) >= 3}


def shot(browser, name):
    path = os.path.join(SHOTS, name + ".png")
    browser.screenshot(path)
    return path


# ---- cookies signed here, as src/http/http_web_session.c signs them --------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def fields_mac(key, fields):
    message = b"".join(len(f).to_bytes(8, "big") + f for f in (x.encode() for x in fields))
    return hmac.new(key, message, hashlib.sha256).digest()


def derived(label, session_key=SESSION_KEY):
    return hmac.new(session_key.encode(), label.encode(), hashlib.sha256).digest()


def session_cookie(user_id, issued, expires, organization="acme", session_key=SESSION_KEY):
    key = derived("ghaccess:v1:web-session", session_key)
    parts = [str(user_id), str(issued), str(expires)]
    mac = b64url(fields_mac(key, ["session", organization] + parts))
    return "1.%s.%s" % (".".join(parts), mac)


def csrf_token(user_id, issued, session_key=SESSION_KEY):
    key = derived("ghaccess:v1:web-csrf", session_key)
    return b64url(fields_mac(key, ["csrf", str(user_id), str(issued)]))


def request(server, method, path, cookie=None, body=None, headers=None):
    url = urllib.parse.urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=15)
    all_headers = dict(headers or {})
    if cookie is not None:
        all_headers["Cookie"] = cookie
    if body is not None:
        all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    try:
        connection.request(method, path, body=body, headers=all_headers)
        reply = connection.getresponse()
        data = reply.read().decode("utf-8", "replace")
        return reply.status, reply.getheaders(), data
    finally:
        connection.close()


def header(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]


def signed_in_page(status, body):
    return status == 200 and 'id="packages"' in body


# ---- the browser flows --------------------------------------------------------

def browser_sign_in(browser, server, name_prefix=None):
    browser.goto(server.url + "/")
    browser.wait_for("document.querySelector('#signin')", what="the sign-in page")
    if name_prefix:
        shot(browser, name_prefix + "-signed-out")
    browser.click("#signin")
    browser.wait_for("document.querySelector('#packages')", what="the package list")


def listed_rows(browser):
    return browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('#packages tbody tr')]"
        ".map(r => [r.dataset.package, r.querySelector('.access').innerText]))")


@test
def browser_sign_in_packages_why_sign_out():
    """Every scenario, two members each: exactly the expected packages; a
    project page's "why" equals `ghaccess explain`; sign out."""
    for path in scenario_paths():
        scenario = load_scenario(path)
        if not scenario.get("expect", {}).get("permissions"):
            continue
        logins = members(scenario)
        chosen = []
        for login in logins:   # two members whose rows differ, when there are
            if not chosen or expected_rows(scenario, login) != expected_rows(scenario, chosen[0]):
                chosen.append(login)
            if len(chosen) == 2:
                break
        standin, server = start(os.path.basename(path), login=chosen[0])
        words = secret_words(scenario)
        for number, login in enumerate(chosen):
            sign_in_as(standin, login)
            name = "%s-%s" % (os.path.basename(path)[:-5], login)
            with Browser() as browser:
                browser.goto(server.url + "/")
                browser.wait_for("document.querySelector('#signin')")
                signed_out = browser.html()
                leaked = [w for w in words if w in signed_out]
                assert not leaked, "the signed-out page names %s" % leaked
                if number == 0 and path.endswith(WORKED):
                    shot(browser, "signed-out")
                browser.click("#signin")
                browser.wait_for("document.querySelector('#packages')")
                rows = listed_rows(browser)
                assert rows == expected_rows(scenario, login), (login, rows)
                shot(browser, name + "-packages")
                if rows:
                    package = sorted(rows)[0]
                    browser.goto("%s/project/%s/" % (server.url, package))
                    why = browser.wait_for("(e => e && e.innerText)(document.querySelector('#why'))")
                    explain = subprocess.run(
                        [GHACCESS, "explain", "--config", server.config_path, login, package],
                        capture_output=True, text=True, cwd=ROOT, timeout=60)
                    assert explain.stdout.splitlines()[1] == why, (explain.stdout, why)
                    shot(browser, name + "-project")
                browser.click("header form button")
                browser.wait_for("document.querySelector('#signin')", what="signed out")
                assert not [c for c in browser.cookies() if c["name"] == COOKIE]
        server.stop()
        standin.stop()


@test
def browser_pages_at_phone_width_and_owner_page():
    standin, server = start(login="olivia")
    with Browser(width=390, height=844) as browser:
        browser.set_width(390, 844, mobile=True)
        browser_sign_in(browser, server)
        # One column: nothing wider than the screen but the scrolling tables.
        wide = browser.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, "page is %d px wide at phone width" % wide
        shot(browser, "phone-packages")
        browser.goto(server.url + "/project/acme-core/")
        browser.wait_for("document.querySelector('#files')")
        assert browser.evaluate("document.documentElement.scrollWidth") <= 390
        text = browser.text("main")
        assert "pip install --index-url %s/simple/ acme-core" % server.url in text, text
        assert "uv add --index" in text and "poetry add --source ghaccess acme-core" in text
        # The owner sees who may write; the yank reason is text, not markup.
        assert "Team platform" in browser.text("#writers"), browser.text("#writers")
        assert "yanked: <img src=x onerror=alert(1)> broken" in text, text
        assert browser.evaluate("document.querySelectorAll('main img').length") == 0
        shot(browser, "phone-project")
    with Browser() as browser:
        browser_sign_in(browser, server)
        browser.goto(server.url + "/project/acme-core/")
        browser.wait_for("document.querySelector('#files')")
        versions = browser.evaluate(
            "[...document.querySelectorAll('#files tr.version th')].map(e => e.innerText)")
        assert versions == ["2.0rc1", "1.1.0", "1.0.0"], versions
        shot(browser, "project")
        browser.goto(server.url + "/")
        browser.wait_for("document.querySelector('#packages')")
        latest = browser.evaluate("document.querySelector('#packages tbody tr td:nth-child(2)').innerText")
        assert latest == "1.0.0", "1.1.0 is yanked and 2.0rc1 a pre-release: %r" % latest
        browser.goto(server.url + "/organization")
        browser.wait_for("document.querySelector('#skipped')")
        text = browser.text("main")
        assert "docs" in browser.text("#skipped") and "Webhook deliveries" in text, text
        assert "GraphQL points left this hour" in text
        shot(browser, "organization")


@test
def browser_removed_member_loses_the_session():
    standin, server = start(login="bob", webhook=True)
    with Browser() as browser:
        browser_sign_in(browser, server)
        # GitHub removes bob, then says so (ghaccess reads his membership
        # again after the delivery: it must find him gone, as it would).
        standin.set_scenario(helpers_of("test_webhook").without_member(standin.scenario, "bob"))
        report = standin.control("POST", "/_standin/webhook", {
            "url": server.url + "/webhook", "secret": WEBHOOK_SECRET,
            "event": "organization", "payload_action": "member_removed", "login": "bob"})
        assert report["status"] == 202, report
        started = time.monotonic()

        def signed_out():
            browser.goto(server.url + "/")
            browser.wait_for("document.querySelector('#signin') || document.querySelector('#packages')")
            # The first page without the session says why (and clears the cookie).
            return browser.text("#notice")
        notice = wait_for(signed_out, timeout=5, what="bob's session to end")
        assert time.monotonic() - started < 5
        assert "session has ended" in notice, notice
        shot(browser, "session-ended")


# ---- attacks, over plain HTTP ------------------------------------------------------

@test
def signed_out_pages_name_nothing():
    standin, server = start()
    words = secret_words(standin.scenario)
    for path in ("/", "/?q=acme", "/login/callback", "/organization"):
        status, headers, body = request(server, "GET", path)
        leaked = [w for w in words if w in body]
        assert not leaked, "%s names %s" % (path, leaked)
    # A package that exists and one that does not: the same answer.
    answers = [request(server, "GET", p)[:2] for p in ("/project/acme-core/",
                                                       "/project/no-such-thing/")]
    assert answers[0][0] == answers[1][0] == 303, answers
    assert header(answers[0][1], "Location") == header(answers[1][1], "Location") == ["/"]


@test
def filter_box_and_repository_link():
    """/?q= keeps the rows whose package or repository contains the text (any
    case); the project page links the repository on GitHub."""
    standin, server = start()
    cookie = "%s=%s" % (COOKIE, session_cookie(102, int(time.time()), int(time.time()) + 600))
    everything = re.findall(r'data-package="([^"]+)"', request(server, "GET", "/", cookie)[2])
    assert len(everything) > 2, everything
    status, _, body = request(server, "GET", "/?q=CORE", cookie)
    shown = re.findall(r'data-package="([^"]+)"', body)
    assert status == 200 and shown and set(shown) < set(everything), (shown, everything)
    assert all("core" in name for name in shown), shown
    assert 'name="q"' in body and 'value="CORE"' in body, "the box keeps the filter"
    status, _, body = request(server, "GET", "/?q=no-such-text", cookie)
    assert not re.findall(r'data-package="', body) and "No package matches the filter" in body
    status, _, body = request(server, "GET", "/project/acme-core/", cookie)
    link = re.search(r'<a id="repository" href="([^"]+)">', body)
    assert status == 200 and link, body[-600:]
    assert link.group(1) == standin.url + "/acme/core-lib", link.group(1)


@test
def every_instance_sharing_the_key_accepts_the_session():
    """A session signed in on one instance is a session on every instance
    with the same session key, and on none with another key."""
    standin, first = start()
    cookie, location = begin_sign_in(first)
    status, back = authorize(location)
    assert status == 302, back
    status, headers, _ = request(first, "GET", callback_path(back), cookie=cookie)
    session = [h.split(";")[0] for h in header(headers, "Set-Cookie")
               if h.startswith(COOKIE + "=1.")]
    assert status == 303 and session, headers
    second = WebServer(first.settings).start()
    assert signed_in_page(*request(second, "GET", "/", cookie=session[0])[::2])
    other = json.loads(json.dumps(first.settings))
    other["web"]["session_key_file"] = secret("other.key", "another-session-key-" + "x" * 24)
    third = WebServer(other).start()
    assert not signed_in_page(*request(third, "GET", "/", cookie=session[0])[::2])


@test
def security_headers_and_no_inline_script():
    standin, server = start()
    cookie = "%s=%s" % (COOKIE, session_cookie(102, int(time.time()), int(time.time()) + 600))
    for path, with_cookie in (("/", False), ("/", True), ("/project/acme-core/", True)):
        status, headers, body = request(server, "GET", path, cookie=cookie if with_cookie else None)
        assert status == 200, (path, status, body[:300])
        csp = header(headers, "Content-Security-Policy")[0]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, csp
        assert "unsafe-inline" not in csp and "script-src" not in csp, csp
        assert header(headers, "X-Frame-Options") == ["DENY"]
        assert header(headers, "X-Content-Type-Options") == ["nosniff"]
        assert header(headers, "Cache-Control") == ["no-store"]
        assert "<script" not in body.lower() and " style=" not in body.lower()
    # What the user types comes back as text.
    status, headers, body = request(server, "GET", "/?q=%3Cscript%3Ealert(1)%3C/script%3E",
                                    cookie=cookie)
    assert status == 200 and "&lt;script&gt;alert(1)&lt;/script&gt;" in body, body[-800:]
    assert "<script>" not in body


@test
def forged_expired_and_tampered_cookies_are_refused():
    standin, server = start()
    now = int(time.time())
    good = session_cookie(102, now, now + 600)
    assert signed_in_page(*request(server, "GET", "/", cookie="%s=%s" % (COOKIE, good))[::2])
    uid, iat, exp, mac = good.split(".")[1:]
    bad = {
        "expired": session_cookie(102, now - 700, now - 100),
        "longer than the lifetime": session_cookie(102, now, now + LIFETIME + 10),
        "issued in the future": session_cookie(102, now + 3600, now + 4000),
        "another user id, same MAC": "1.%s.%s.%s.%s" % (101, iat, exp, mac),
        "later expiry, same MAC": "1.%s.%s.%s.%s" % (uid, iat, int(exp) + 1, mac),
        "wrong key": session_cookie(102, now, now + 600, session_key="x" * 40),
        "another organization": session_cookie(102, now, now + 600, organization="other"),
        "no MAC": "1.%s.%s.%s" % (uid, iat, exp),
        "MAC of zeros": "1.%s.%s.%s.%s" % (uid, iat, exp, "A" * 43),
        "version 2": "2" + good[1:],
        "garbage": "<script>",
        "not a member (erin)": session_cookie(105, now, now + 600),
    }
    for what, value in bad.items():
        status, headers, body = request(server, "GET", "/", cookie="%s=%s" % (COOKIE, value))
        assert not signed_in_page(status, body), what
        assert "acme-core" not in body, what
        cleared = [c for c in header(headers, "Set-Cookie") if c.startswith(COOKIE + "=;")]
        assert cleared and "Max-Age=0" in cleared[0], (what, headers)
    # Two session cookies: which one would a proxy have looked at?
    status, _, body = request(server, "GET", "/", cookie="%s=%s; %s=%s" % (COOKIE, good, COOKIE, good))
    assert not signed_in_page(status, body)


@test
def csrf_token_required_for_sign_out():
    standin, server = start()
    now = int(time.time())
    value = session_cookie(102, now, now + 600)
    cookie = "%s=%s" % (COOKIE, value)
    token = csrf_token(102, now)
    status, headers, body = request(server, "GET", "/", cookie=cookie)
    assert 'name="csrf" value="%s"' % token in body, "the form carries the session's token"
    refused = {
        "missing": "",
        "empty": "csrf=",
        "wrong": "csrf=" + "A" * 43,
        "another session's": "csrf=" + csrf_token(102, now - 1),
    }
    for what, form in refused.items():
        status, headers, body = request(server, "POST", "/logout", cookie=cookie, body=form)
        assert status == 403, (what, status)
        assert not header(headers, "Set-Cookie"), what
    status, headers, _ = request(server, "POST", "/logout", cookie=cookie, body="csrf=" + token,
                                 headers={"Origin": "https://evil.example"})
    assert status == 403, "a form posted from another site"
    status, headers, _ = request(server, "POST", "/logout", cookie=cookie, body="csrf=" + token,
                                 headers={"Content-Type": "text/plain"})
    assert status == 403, "not a form body"
    status, headers, _ = request(server, "GET", "/logout", cookie=cookie)
    assert status == 405, "sign-out is a POST"
    status, headers, _ = request(server, "POST", "/logout", cookie=cookie, body="csrf=" + token,
                                 headers={"Origin": server.url})
    assert status == 303, status
    assert any(c.startswith(COOKIE + "=;") and "Max-Age=0" in c for c in header(headers, "Set-Cookie"))


def begin_sign_in(server):
    """GET /login: the sign-in cookie and GitHub's authorize URL."""
    status, headers, _ = request(server, "GET", "/login")
    assert status == 303, status
    cookie = [c.split(";")[0] for c in header(headers, "Set-Cookie")
              if c.startswith(SIGNIN_COOKIE + "=")][0]
    return cookie, header(headers, "Location")[0]


def authorize(standin_url):
    """What the browser does at GitHub: follow the authorize URL once."""
    url = urllib.parse.urlsplit(standin_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        connection.request("GET", url.path + "?" + url.query)
        reply = connection.getresponse()
        reply.read()
        return reply.status, reply.getheader("Location")
    finally:
        connection.close()


def callback_path(location):
    url = urllib.parse.urlsplit(location)
    return url.path + "?" + url.query


@test
def oauth_state_pkce_and_single_use():
    standin, server = start()
    cookie, location = begin_sign_in(server)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert location.startswith(standin.url + "/login/oauth/authorize?"), location
    assert query["client_id"] == CLIENT_ID and query["code_challenge_method"] == "S256"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", query["code_challenge"]), query
    assert query["redirect_uri"] == server.url + "/login/callback"
    assert len(query["state"]) == 43
    assert "Max-Age=600" in [c for c in request(server, "GET", "/login")[1]
                             if c[0].lower() == "set-cookie"][0][1]
    status, back = authorize(location)
    assert status == 302 and back.startswith(server.url + "/login/callback?"), back
    path = callback_path(back)
    exchanges = standin.stats()["oauth_exchanges"]

    # Without the cookie, with another sign-in's cookie, with a changed
    # state: refused before anything is asked of GitHub.
    other_cookie, _ = begin_sign_in(server)
    changed = path.replace("state=", "state=x")
    for what, c, p in (("no cookie", None, path), ("another cookie", other_cookie, path),
                       ("changed state", cookie, changed),
                       ("no state", cookie, re.sub(r"&?state=[^&]*", "", path))):
        status, headers, body = request(server, "GET", p, cookie=c)
        assert status == 400, (what, status)
        assert not [h for h in header(headers, "Set-Cookie") if h.startswith(COOKIE + "=1")], what
    assert standin.stats()["oauth_exchanges"] == exchanges, "GitHub was asked for a forged callback"

    status, _, _ = request(server, "HEAD", path, cookie=cookie)
    assert status == 405, "a HEAD (a prefetcher) must not spend the sign-in"
    status, headers, _ = request(server, "GET", path, cookie=cookie)
    assert status == 303, status
    session = [h for h in header(headers, "Set-Cookie") if h.startswith(COOKIE + "=1.")]
    assert session and "HttpOnly" in session[0] and "SameSite=Lax" in session[0], headers
    assert "Max-Age=28800" in session[0]
    assert any(h.startswith(SIGNIN_COOKIE + "=;") for h in header(headers, "Set-Cookie")), \
        "the sign-in cookie is cleared"
    assert signed_in_page(*request(server, "GET", "/", cookie=session[0].split(";")[0])[::2])

    # The same callback again (a replay): refused here, GitHub not asked.
    exchanges = standin.stats()["oauth_exchanges"]
    status, headers, body = request(server, "GET", path, cookie=cookie)
    assert status == 400 and "already used" in body, (status, body[-400:])
    assert standin.stats()["oauth_exchanges"] == exchanges

    # The user cancels at GitHub.
    sign_in_as(standin, None)
    cookie, location = begin_sign_in(server)
    status, back = authorize(location)
    assert "error=access_denied" in back
    status, headers, body = request(server, "GET", callback_path(back), cookie=cookie)
    assert status == 200 and "cancelled" in body
    assert not [h for h in header(headers, "Set-Cookie") if h.startswith(COOKIE + "=1")]
    # The server's log never holds a secret.
    log = server.log()
    for value in (CLIENT_SECRET, SESSION_KEY, "gho_", "ghu_", query["state"]):
        assert value not in log, value


@test
def login_hint_is_only_a_hint():
    """/login?login=carol suggests carol's account; who signed in is what
    GitHub's /user says, whatever the hint."""
    standin, server = start(login="bob")
    status, headers, _ = request(server, "GET", "/login?login=carol")
    location = header(headers, "Location")[0]
    assert "&login=carol" in location, location
    status, headers, _ = request(server, "GET", "/login?login=%3Cx%3E")
    assert "login=" not in header(headers, "Location")[0].split("allow_signup")[1]
    cookie, location = begin_sign_in(server)
    status, back = authorize(location + "&login=carol")
    status, headers, _ = request(server, "GET", callback_path(back), cookie=cookie)
    session = [h for h in header(headers, "Set-Cookie") if h.startswith(COOKIE + "=1.")][0]
    assert session.split(".")[1] == "103", session   # carol's id, from GET /user


@test
def outsiders_get_no_session():
    standin, server = start(login="erin")   # an outside collaborator
    cookie, location = begin_sign_in(server)
    status, back = authorize(location)
    status, headers, body = request(server, "GET", callback_path(back), cookie=cookie)
    assert status == 403, status
    assert "cannot use this package index" in body
    assert not [h for h in header(headers, "Set-Cookie") if h.startswith(COOKIE + "=1")]
    assert "acme" not in body


@test
def enterprise_server_urls_are_derived():
    """[github] api_url https://HOST/api/v3: the web flow goes to HOST/login/oauth/."""
    standin = Standin(scenario_path(WORKED), args=["--prefix", "/api"])
    settings = scenario_settings(standin)
    settings["github"]["api_url"] = standin.url + "/api/v3"
    settings["github"]["graphql_url"] = None
    settings["web"] = {"client_id": CLIENT_ID,
                       "client_secret_file": secret("client.secret", CLIENT_SECRET),
                       "session_key_file": secret("session.key", SESSION_KEY),
                       "cookie_secure": False}
    server = WebServer(settings).start()
    standin.control("POST", "/_standin/oauth", {
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "login": "carol",
        "callback_url": server.url + "/login/callback"})
    cookie, location = begin_sign_in(server)
    assert location.startswith(standin.url + "/login/oauth/authorize?"), location
    status, back = authorize(location)
    status, headers, _ = request(server, "GET", callback_path(back), cookie=cookie)
    assert status == 303 and [h for h in header(headers, "Set-Cookie") if h.startswith(COOKIE + "=1.")]


@test
def github_down_during_sign_in():
    standin, server = start()
    cookie, location = begin_sign_in(server)
    status, back = authorize(location)
    standin.fault("error5xx", target="oauth", status=502)
    status, headers, body = request(server, "GET", callback_path(back), cookie=cookie)
    assert status == 503, status
    assert not [h for h in header(headers, "Set-Cookie") if h.startswith(COOKIE + "=1")]


@test
def members_do_not_see_who_else_may_write():
    standin, server = start()
    now = int(time.time())
    dave = "%s=%s" % (COOKIE, session_cookie(104, now, now + 600))   # read only
    status, _, body = request(server, "GET", "/project/acme-core/", cookie=dave)
    assert status == 200 and 'id="writers-hidden"' in body and "platform" not in body.split("Who else")[1]
    status, _, body = request(server, "GET", "/organization", cookie=dave)
    assert status == 404, "not an owner"
    olivia = "%s=%s" % (COOKIE, session_cookie(101, now, now + 600))
    status, _, body = request(server, "GET", "/project/acme-core/", cookie=olivia)
    assert 'id="writers"' in body and "bob" in body.split("Who else")[1]
    # A package dave may not see is "not found", like one that does not exist.
    status_a, _, body_a = request(server, "GET", "/project/no-such-thing/", cookie=dave)
    assert status_a == 404


@test
def reserved_names_are_for_owners_and_listed_with_conflicts():
    standin, server = start("name-takeover.json", storage=False)
    scenario = standin.scenario
    now = int(time.time())
    org = scenario["organization"]["login"]
    ids = {u["login"]: u["id"] for u in scenario["users"]}
    reserved = scenario["expect"]["reserved"]
    olivia = "%s=%s" % (COOKIE, session_cookie(ids["olivia"], now, now + 600, org))
    mallory = "%s=%s" % (COOKIE, session_cookie(ids["mallory"], now, now + 600, org))
    _, _, home = request(server, "GET", "/", cookie=olivia)
    _, _, overview = request(server, "GET", "/organization", cookie=olivia)
    _, _, theirs = request(server, "GET", "/", cookie=mallory)
    for name, repository in reserved.items():
        assert 'data-package="%s"' % name in home, (name, home)
        assert name in overview.split('id="reserved"')[1].split("</table>")[0], overview
        assert 'data-package="%s"' % name not in theirs, (name, theirs)
        status, _, _ = request(server, "GET", "/project/%s/" % name, cookie=mallory)
        assert status == 404, (name, status)
    conflicts = overview.split('id="conflicts"')[1].split("</table>")[0]
    for repository in scenario["expect"]["conflicts"]:
        assert repository in conflicts, (repository, conflicts)


@test
def sso_required_refuses_the_sign_in_with_the_authorization_url():
    scenario = load_scenario(scenario_path(WORKED))
    scenario["organization"]["saml_sso"] = True
    standin, server = start(scenario, storage=False, github_settings={"verify_token_org_access": True})
    for authorized, expected in ((False, 403), (True, 303)):
        standin.control("POST", "/_standin/oauth", {
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "kind": "oauth_app",
            "callback_url": server.url + "/login/callback", "login": "bob",
            "sso_authorized": authorized})
        cookie, location = begin_sign_in(server)
        assert "scope=read%3Aorg" in location, location
        _, back = authorize(location)
        status, headers, body = request(server, "GET", callback_path(back), cookie=cookie)
        assert status == expected, (authorized, status, body)
        if not authorized:
            assert "/orgs/acme/sso?authorization_request=" in body, body
            assert not [c for c in header(headers, "Set-Cookie") if c.startswith(COOKIE + "=")
                        and not c.startswith(COOKIE + "=;")], headers


# ---- yank and delete on the project page (issue 15) ------------------------------

def index_files(server, user, token, name="acme-core"):
    """{filename: file} of the simple JSON page, as pip sees it."""
    url = urllib.parse.urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=15)
    credentials = base64.b64encode(("%s:%s" % (user, token)).encode()).decode()
    try:
        connection.request("GET", "/simple/%s/" % name, headers={
            "Authorization": "Basic " + credentials,
            "Accept": "application/vnd.pypi.simple.v1+json"})
        reply = connection.getresponse()
        assert reply.status == 200, reply.status
        return {f["filename"]: f for f in json.loads(reply.read())["files"]}
    finally:
        connection.close()


@test
def browser_yank_through_the_project_page():
    """bob (write on acme-core) yanks 1.0.0 with a reason in Chromium, then
    pip's view of the index says so; the page offers to un-yank it."""
    standin, server = start(login="bob")
    with Browser() as browser:
        browser_sign_in(browser, server)
        browser.goto(server.url + "/project/acme-core/")
        browser.wait_for("document.querySelector('tr.version[data-version=\"1.0.0\"] form.yank')",
                         what="the yank form of 1.0.0")
        # 1.1.0 is yanked already: it offers un-yank instead.
        assert browser.evaluate("!!document.querySelector("
                                "'tr.version[data-version=\"1.1.0\"] form.unyank')")
        # No delete without [index] allow_delete.
        assert browser.evaluate("document.querySelectorAll('form.delete').length") == 0
        browser.evaluate("document.querySelector('tr.version[data-version=\"1.0.0\"] "
                         "form.yank input[name=reason]').value = 'use 1.1.1: <b>crash</b>'")
        shot(browser, "yank-before")
        browser.click("tr.version[data-version=\"1.0.0\"] form.yank button")
        browser.wait_for("document.querySelector('tr.version[data-version=\"1.0.0\"] "
                         "form.unyank')", what="the page after the yank")
        text = browser.text("#files")
        assert "yanked: use 1.1.1: <b>crash</b>" in text, text
        assert browser.evaluate("document.querySelectorAll('#files b').length") == 0
        shot(browser, "yank-after")
    files = index_files(server, "bob", token_of(standin, "bob"))
    yanked = {name: f["yanked"] for name, f in files.items()}
    assert yanked["acme_core-1.0.0-py3-none-any.whl"] == "use 1.1.1: <b>crash</b>", yanked
    assert yanked["acme_core-2.0rc1-py3-none-any.whl"] is False, yanked
    assert "action=yank user=bob decision=allow" in server.log()


@test
def yank_and_delete_forms_need_the_token_and_write_access():
    standin, server = start(login="bob")
    now = int(time.time())
    bob = "%s=%s" % (COOKIE, session_cookie(102, now, now + 600))
    dave = "%s=%s" % (COOKIE, session_cookie(104, now, now + 600))
    bob_form = "csrf=%s&action=yank&target=1.0.0&reason=bad" % csrf_token(102, now)
    dave_form = "csrf=%s&action=yank&target=1.0.0&reason=mine" % csrf_token(104, now)

    def yanked():
        return index_files(server, "bob", token_of(standin, "bob"))[
            "acme_core-1.0.0-py3-none-any.whl"]["yanked"]

    # The forms are for writers only.
    _, _, body = request(server, "GET", "/project/acme-core/", cookie=bob)
    assert 'class="change yank"' in body and csrf_token(102, now) in body
    _, _, body = request(server, "GET", "/project/acme-core/", cookie=dave)
    assert "form class=\"change" not in body, "a reader gets no forms"
    # A reader posting the form anyway (with its own valid token): refused.
    status, _, body = request(server, "POST", "/project/acme-core/", cookie=dave, body=dave_form)
    assert status == 403 and "read-only access" in body, (status, body)
    # No token, another session's token, another site, not a form.
    for form, headers in (("action=yank&target=1.0.0", {}),
                          (dave_form, {}),
                          (bob_form, {"Origin": "https://evil.example"}),
                          (bob_form, {"Content-Type": "text/plain"})):
        status, _, _ = request(server, "POST", "/project/acme-core/", cookie=bob, body=form,
                               headers=headers)
        assert status == 403, (form, headers, status)
    # Signed out.
    status, _, _ = request(server, "POST", "/project/acme-core/", body=bob_form)
    assert status == 403
    assert yanked() is False
    # Deleting is off ([index] allow_delete).
    status, _, body = request(server, "POST", "/project/acme-core/", cookie=bob,
                              body=bob_form.replace("action=yank", "action=delete"))
    assert status == 403 and "allow_delete" in body, (status, body)
    # Another spelling of the page, an unreadable package, an unknown action.
    status, _, _ = request(server, "POST", "/project/Acme_Core/", cookie=bob, body=bob_form)
    assert status == 404
    status, _, _ = request(server, "POST", "/project/acme-secret/", cookie=bob, body=bob_form)
    assert status == 404
    status, _, _ = request(server, "POST", "/project/acme-core/", cookie=bob,
                           body=bob_form.replace("action=yank", "action=rename"))
    assert status == 400
    assert yanked() is False
    # The real thing: back to the page (303).
    status, headers, _ = request(server, "POST", "/project/acme-core/", cookie=bob, body=bob_form,
                                 headers={"Origin": server.url})
    assert status == 303 and header(headers, "Location") == ["/project/acme-core/"], \
        (status, headers)
    assert yanked() == "bad"
    log = server.log()
    assert "action=yank user=dave decision=deny reason=\"no write access\"" in log
    assert "action=yank user=bob decision=allow reason=bad package=acme-core" in log


if __name__ == "__main__":
    run_tests()
