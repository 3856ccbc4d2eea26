#!/usr/bin/env python3
"""ini_snippets.py - every INI snippet a user might paste, checked as pasted.

Snippets: ```ini blocks of README.md and docs/**/*.md, .nf/.fi blocks of
man/* that hold INI lines, examples/*.ini, and (--demo FILE) the server.ini
lines printed by `make demo`.  Each must:

- have no inline comment: PasteDeploy (configparser) keeps "; ..." and
  " # ..." after a value as part of it, inih cuts it off;
- parse with configparser's rules as PasteDeploy sets them up (strict,
  case-sensitive keys, %(name)s interpolation);
- when it configures pypicloud (pypi.auth), hold the intended values:
  pypi.auth = remote, auth.backend_server without a trailing slash,
  auth.user and auth.password, tm.annotate_user = false, and
  pypi.default_read empty with a comment line just above it.

    python3 tests/e2e/ini_snippets.py [--demo FILE]

Exits 0 when every snippet passes (and prints how many it checked), 1
otherwise.  Standard library only.
"""

import argparse
import configparser
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INLINE_COMMENT = re.compile(r"\s[;#]")
INI_LINE = re.compile(r"^(\[[^\]]+\]\s*$|[A-Za-z_][\w.-]*\s*=)")
# A commented-out setting ("; fallback_url = ...") is pasted by uncommenting it.
COMMENTED_SETTING = re.compile(r"^[;#]\s*[A-Za-z_][\w.-]*\s*=")
SYSTEMD_SECTIONS = ("[Unit]", "[Service]", "[Install]")


class Snippet:
    def __init__(self, source, line, text):
        self.source = source      # "README.md:150"
        self.line = line
        self.text = text

    def __repr__(self):
        return "%s:%d" % (self.source, self.line)


def markdown_snippets(path):
    text = open(path, encoding="utf-8").read()
    relative = os.path.relpath(path, ROOT)
    for match in re.finditer(r"^( *)```ini\n(.*?)^\1```", text, re.S | re.M):
        indent = len(match.group(1))
        body = "\n".join(line[indent:] for line in match.group(2).splitlines())
        yield Snippet(relative, text.count("\n", 0, match.start()) + 2, body + "\n")


def unroff(line):
    for escape, plain in (("\\-", "-"), ("\\e", "\\"), ("\\&", ""), ("\\(em", "-"),
                          ("\\(en", "-"), ("\\(aq", "'"), ("\\(dq", '"')):
        line = line.replace(escape, plain)
    return line


def man_snippets(path):
    relative = os.path.relpath(path, ROOT)
    lines = open(path, encoding="utf-8").read().splitlines()
    start = None
    for number, line in enumerate(lines, 1):
        if line.startswith(".nf"):
            start = number
        elif line.startswith(".fi") and start is not None:
            body = [unroff(text) for text in lines[start:number - 1]
                    if not text.startswith(".")]
            if any(INI_LINE.match(text) for text in body):
                yield Snippet(relative, start + 1, "\n".join(body) + "\n")
            start = None


def demo_snippets(path):
    """The indented block after the line that names pypicloud's server.ini."""
    lines = open(path, encoding="utf-8").read().splitlines()
    for number, line in enumerate(lines):
        if "server.ini" not in line or line.startswith(" "):
            continue
        block = []
        for text in lines[number + 1:]:
            if text.strip() and not text.startswith("    "):
                break
            block.append(text[4:])
        while block and not block[0].strip():
            block.pop(0)
        body = "\n".join(block).strip("\n")
        if body:
            yield Snippet("make demo output", number + 2, body + "\n")


def all_snippets(demo=None):
    snippets = []
    for path in [os.path.join(ROOT, "README.md")] + sorted(
            glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True)):
        snippets.extend(markdown_snippets(path))
    for path in sorted(glob.glob(os.path.join(ROOT, "man", "*.[0-9]"))):
        snippets.extend(man_snippets(path))
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "*.ini"))):
        snippets.append(Snippet(os.path.relpath(path, ROOT), 1,
                                open(path, encoding="utf-8").read()))
    if demo:
        found = list(demo_snippets(demo))
        if not found:
            raise SystemExit("ini_snippets: no server.ini lines in the demo output %s" % demo)
        snippets.extend(found)
    return snippets


# ---- the checks -----------------------------------------------------------------

def inline_comments(snippet):
    problems = []
    for offset, line in enumerate(snippet.text.splitlines()):
        stripped = line.strip()
        if not stripped or stripped.startswith("["):
            continue
        if stripped[0] in ";#" and not COMMENTED_SETTING.match(stripped):
            continue
        if INLINE_COMMENT.search(stripped[1:] if stripped[0] in ";#" else stripped):
            problems.append("line %d has an inline comment: %r" % (snippet.line + offset, line))
    return problems


def parse(snippet, default_section):
    """configparser as PasteDeploy sets it up; a snippet without a section
    header is the inside of default_section."""
    text = snippet.text
    first = next((line.strip() for line in text.splitlines()
                  if line.strip() and line.strip()[0] not in ";#"), "")
    if not first.startswith("["):
        text = "[%s]\n%s" % (default_section, text)
    parser = configparser.ConfigParser(strict=True)
    parser.optionxform = str
    parser.read_string(text)
    for section in parser.sections():
        for key in parser[section]:
            parser.get(section, key)    # interpolation errors surface here
    return parser


def is_pypicloud(snippet):
    return re.search(r"^\s*pypi\.auth\s*=", snippet.text, re.M) is not None


def pypicloud_values(snippet):
    problems = []
    parser = parse(snippet, "app:main")
    if not parser.has_section("app:main") or "pypi.auth" not in parser["app:main"]:
        return ["pypi.auth is not in [app:main]"]
    app = parser["app:main"]
    expect = {"pypi.auth": "remote", "tm.annotate_user": "false", "pypi.default_read": ""}
    for key, value in expect.items():
        if app.get(key) != value:
            problems.append("%s should be %r, is %r" % (key, value, app.get(key)))
    server = app.get("auth.backend_server", "")
    if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*[^/\s])?", server):
        problems.append("auth.backend_server %r: a URL without a trailing slash" % server)
    if not re.fullmatch(r"[A-Za-z0-9._-]+", app.get("auth.user", "")):
        problems.append("auth.user %r: a plain name" % app.get("auth.user"))
    password = app.get("auth.password", "")
    if not (re.fullmatch(r"<[^<>]+>", password) or re.fullmatch(r"\S+", password)):
        problems.append("auth.password %r: a password or a <placeholder>" % password)
    lines = snippet.text.splitlines()
    for number, line in enumerate(lines):
        if re.match(r"\s*pypi\.default_read\s*=", line):
            above = lines[number - 1].strip() if number > 0 else ""
            if not above or above[0] not in ";#":
                problems.append("no comment line above pypi.default_read = (say why)")
    return problems


def check(snippet):
    problems = inline_comments(snippet)
    try:
        if is_pypicloud(snippet):
            problems += pypicloud_values(snippet)
        elif not any(header in snippet.text for header in SYSTEMD_SECTIONS):
            # A systemd drop-in may repeat keys (LoadCredential=); not INI.
            parse(snippet, "snippet")
    except configparser.Error as error:
        problems.append("configparser: %s" % str(error).replace("\n", " "))
    return problems


def self_test():
    """The checker catches the snippet that broke pypicloud (README, 2026)."""
    broken = Snippet("self-test", 1, "pypi.auth = remote\n"
                                     "auth.backend_server = http://127.0.0.1:8081/\n"
                                     "auth.user = pypicloud            ; when set\n"
                                     "auth.password = <backend_password>\n")
    problems = check(broken)
    for needle in ("inline comment", "pypi.default_read", "trailing slash", "auth.user",
                   "tm.annotate_user"):
        assert any(needle in problem for problem in problems), (needle, problems)


def main():
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--demo", help="a file holding the output of make demo")
    options = arguments.parse_args()
    self_test()
    snippets = all_snippets(options.demo)
    failed = 0
    pypicloud = 0
    for snippet in snippets:
        pypicloud += is_pypicloud(snippet)
        problems = check(snippet)
        for problem in problems:
            print("%r: %s" % (snippet, problem))
        failed += bool(problems)
    if pypicloud == 0:
        print("no pypicloud snippet found: the extraction is broken")
        failed += 1
    print("ini snippets: %d checked (%d for pypicloud), %d with problems"
          % (len(snippets), pypicloud, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
