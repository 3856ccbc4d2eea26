#!/usr/bin/env python3
"""test_upload_limits.py - what an upload may make the index hold, and when
its permission is decided.

- dave (read-only on acme-core) streams a form whose file part comes
  first, from many connections at once: not a byte reaches the disk, each
  is refused with 400 and a reason phrase that twine would print, and the
  connections beyond his bound get 503 at once;
- uploads in progress are bounded per user, in all, and by the disk their
  Content-Length may fill ([index] max_concurrent_uploads,
  max_concurrent_uploads_per_user, max_upload_disk): the excess is
  refused with 503 and Retry-After before its body is read;
- a cross-site upload (a page elsewhere making a browser that cached the
  index's Basic credentials POST a form) is refused before its body;
- an upload whose permission is revoked while it streams (the team grant
  is removed, the server syncs) is refused at commit: nothing stored.
"""

import copy
import http.client
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dists  # noqa: E402
from harness import (Ghaccess, Standin, basic_auth, first_tokens,  # noqa: E402
                     fresh_dir, run_tests, scenario_path, scenario_settings, test, wait_for)

SCENARIO = scenario_path("worked-example.json")
tokens = first_tokens


def start_index(standin, **index):
    settings = scenario_settings(standin)
    settings["index"] = {"storage_dir": os.path.join(fresh_dir("storage"), "packages")}
    settings["index"].update(index)
    return Ghaccess(settings).start()


def temporary_files(server):
    """The uploads' temporary files in the storage, with their sizes."""
    storage = server.settings["index"]["storage_dir"]
    found = {}
    for name in os.listdir(storage):
        if name.startswith(".upload-"):
            try:
                found[name] = os.path.getsize(os.path.join(storage, name))
            except FileNotFoundError:
                pass
    return found


class Upload:
    """One upload over its own connection, its body sent in steps."""

    def __init__(self, server, user, password, body, content_type, chunked=False,
                 headers=None):
        url = urllib.parse.urlsplit(server.url)
        self.body = body
        self.sent = 0
        self.chunked = chunked
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        self.connection.putrequest("POST", "/legacy/")
        self.connection.putheader("Authorization", basic_auth(user, password))
        self.connection.putheader("Content-Type", content_type)
        if chunked:
            self.connection.putheader("Transfer-Encoding", "chunked")
        else:
            self.connection.putheader("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.connection.putheader(name, value)
        self.connection.endheaders()

    def send(self, count):
        """Send the next count bytes of the body; False when the server hung up."""
        piece = self.body[self.sent:self.sent + count]
        self.sent += len(piece)
        try:
            if self.chunked:
                self.connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            else:
                self.connection.send(piece)
            return True
        except OSError:
            return False

    def finish(self):
        """Send the rest; (status, reason, headers, body)."""
        if self.sent < len(self.body):
            self.send(len(self.body) - self.sent)
        if self.chunked:
            try:
                self.connection.send(b"0\r\n\r\n")
            except OSError:
                pass
        return self.answer()

    def answer(self):
        reply = self.connection.getresponse()
        result = (reply.status, reply.reason, {k.lower(): v for k, v in reply.getheaders()},
                  reply.read())
        self.connection.close()
        return result

    def answered_early(self, timeout=2.0):
        """The answer the server sent before the body (None when it waits)."""
        sock = self.connection.sock
        sock.settimeout(timeout)
        try:
            data = sock.recv(1, 0x02)  # MSG_PEEK
        except (TimeoutError, OSError):
            data = b""
        finally:
            sock.settimeout(30)
        return self.answer() if data else None


BOUNDARY = b"ghaccess-limits-boundary"


def form(fields, filename, content, file_first=False):
    """A multipart/form-data body: the fields, and the file part last (as
    twine, poetry and uv send it) or first."""
    def part(name, value, file_name=None):
        disposition = b'form-data; name="%s"' % name.encode()
        extra = b""
        if file_name is not None:
            disposition += b'; filename="%s"' % file_name.encode()
            extra = b"Content-Type: application/octet-stream\r\n"
        return (b"--" + BOUNDARY + b"\r\nContent-Disposition: " + disposition + b"\r\n" +
                extra + b"\r\n" + value + b"\r\n")

    fields = [part(key, value.encode()) for key, value in fields]
    file_part = part("content", content, filename)
    parts = [file_part] + fields if file_first else fields + [file_part]
    body = b"".join(parts) + b"--" + BOUNDARY + b"--\r\n"
    return body, "multipart/form-data; boundary=%s" % BOUNDARY.decode()


def wheel_form(directory, name, version, size, file_first=False):
    path = dists.wheel(directory, name, version, payload=os.urandom(size))
    with open(path, "rb") as file:
        content = file.read()
    fields = [(":action", "file_upload"), ("protocol_version", "1"), ("name", name),
              ("version", version), ("filetype", "bdist_wheel"),
              ("sha256_digest", dists.sha256_of(path))]
    body, content_type = form(fields, os.path.basename(path), content, file_first)
    return body, content_type, os.path.basename(path)


@test
def read_only_member_streaming_the_file_first_stores_nothing():
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        secret = tokens(standin)
        directory = fresh_dir("dists")
        body, content_type, _ = wheel_form(directory, "acme-core", "6.0", 4 << 20,
                                           file_first=True)
        assert body.index(b'name="content"') < body.index(b'name="name"')
        # Ten connections at once (dave's bound is 4): each streams slowly.
        uploads = [Upload(server, "dave", secret["dave"], body, content_type)
                   for _ in range(10)]
        answers = []
        streaming = []
        for upload in uploads:
            early = upload.answered_early(timeout=0.5)
            if early is not None:
                answers.append(early)
            else:
                streaming.append(upload)
        for step in range(8):
            for upload in streaming:
                upload.send(256 << 10)
            time.sleep(0.1)
            assert temporary_files(server) == {}, temporary_files(server)
        # dave's connections beyond his bound were refused before their body.
        assert len(streaming) == 4, len(streaming)
        for status, reason, headers, text in answers:
            assert status == 503 and headers.get("retry-after"), (status, reason)
            assert "max_concurrent_uploads_per_user" in reason, reason
        for upload in streaming:
            status, reason, _, text = upload.finish()
            # twine prints the reason phrase of a refused upload.
            assert status == 400, (status, reason, text)
            assert ":action, name and version must come before the file" in reason, reason
        assert temporary_files(server) == {}
        storage = server.settings["index"]["storage_dir"]
        assert not os.path.exists(os.path.join(storage, "acme-core")), os.listdir(storage)


@test
def uploads_in_progress_are_bounded_per_user_and_in_all():
    with Standin(SCENARIO) as standin:
        server = start_index(standin, max_concurrent_uploads=3,
                             max_concurrent_uploads_per_user=2)
        secret = tokens(standin)
        directory = fresh_dir("dists")
        started = []
        for i, user in enumerate(["bob", "bob", "olivia"]):
            name = "acme-core" if user == "bob" else "acme-tools"
            body, content_type, _ = wheel_form(directory, name, "7.%d" % i, 256 << 10)
            upload = Upload(server, user, secret[user], body, content_type)
            upload.send(64 << 10)
            started.append(upload)
        # Admitted (after their logins, checked with GitHub): all streaming.
        wait_for(lambda: len(temporary_files(server)) == 3, what="three uploads streaming")
        for upload in started:
            assert upload.answered_early(timeout=0.2) is None
        # bob's third: his bound; olivia's second: the bound in all.
        for user, name, expected in [("bob", "acme-core", "max_concurrent_uploads_per_user"),
                                     ("olivia", "acme-tools", "max_concurrent_uploads)")]:
            body, content_type, _ = wheel_form(directory, name, "7.9", 256 << 10)
            extra = Upload(server, user, secret[user], body, content_type)
            status, reason, headers, _ = extra.answered_early(timeout=5)
            assert status == 503 and headers.get("retry-after") == "10", (status, reason)
            assert expected in reason, reason
        for upload in started:
            status, reason, _, _ = upload.finish()
            assert status == 200, (status, reason)
        # The slots are back.
        body, content_type, _ = wheel_form(directory, "acme-core", "7.10", 1024)
        status, reason, _, _ = Upload(server, "bob", secret["bob"], body, content_type).finish()
        assert status == 200, (status, reason)


@test
def disk_taken_by_uploads_in_progress_is_bounded():
    with Standin(SCENARIO) as standin:
        server = start_index(standin, max_upload_size="1M", max_upload_disk="2M")
        secret = tokens(standin)
        directory = fresh_dir("dists")
        # Two uploads of about 0.9 MB reserve 1.8 MB of the 2 MB.
        started = []
        for i in range(2):
            body, content_type, _ = wheel_form(directory, "acme-core", "8.%d" % i, 900 << 10)
            upload = Upload(server, "bob" if i == 0 else "olivia",
                            secret["bob" if i == 0 else "olivia"], body, content_type)
            upload.send(512 << 10)
            started.append(upload)
        wait_for(lambda: len(temporary_files(server)) == 2, what="two uploads streaming")
        # A third of 300 KB does not fit; a chunked one would reserve 1 MB.
        body, content_type, _ = wheel_form(directory, "acme-tools", "8.5", 300 << 10)
        third = Upload(server, "olivia", secret["olivia"], body, content_type)
        status, reason, headers, _ = third.answered_early(timeout=5)
        assert status == 503 and "max_upload_disk" in reason, (status, reason)
        assert sum(temporary_files(server).values()) <= 2 << 20
        for upload in started:
            status, reason, _, _ = upload.finish()
            assert status == 200, (status, reason)
        # Freed: a chunked upload (reserving max_upload_size) fits now.
        body, content_type, _ = wheel_form(directory, "acme-tools", "8.6", 300 << 10)
        status, reason, _, _ = Upload(server, "olivia", secret["olivia"], body, content_type,
                                      chunked=True).finish()
        assert status == 200, (status, reason)


@test
def cross_site_upload_from_a_browser_is_refused():
    """A page on another site can make a browser POST a multipart form (a
    CORS "simple" request, no preflight) with the Basic credentials it
    cached for the index. Browsers name the page in Origin; upload clients
    never send it: such an upload is refused before a byte is stored."""
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        secret = tokens(standin)
        directory = fresh_dir("dists")
        body, content_type, filename = wheel_form(directory, "acme-core", "7.0", 64 << 10)
        for origin in ("https://evil.example", "null", server.url):
            upload = Upload(server, "bob", secret["bob"], body, content_type,
                            headers={"Origin": origin})
            early = upload.answered_early()
            assert early is not None, "answered only after the body"
            status, reason, _, _ = early
            assert status == 403 and "Origin" in reason, (origin, status, reason)
            assert temporary_files(server) == {}
        storage = server.settings["index"]["storage_dir"]
        assert not os.path.exists(os.path.join(storage, "acme-core", filename))
        # The same upload as twine sends it (no Origin) is stored.
        status, reason, _, _ = Upload(server, "bob", secret["bob"], body, content_type).finish()
        assert status == 200, (status, reason)
        assert os.path.exists(os.path.join(storage, "acme-core", filename))


@test
def permission_revoked_during_an_upload_is_refused_at_commit():
    with Standin(SCENARIO) as standin:
        server = start_index(standin)
        secret = tokens(standin)
        directory = fresh_dir("dists")
        body, content_type, filename = wheel_form(directory, "acme-core", "9.0", 2 << 20)
        upload = Upload(server, "bob", secret["bob"], body, content_type)
        upload.send(1 << 20)
        wait_for(lambda: sum(temporary_files(server).values()) > 0, what="the upload to stream")

        # bob leaves team platform (his write access to core-lib) while
        # the upload streams; the server syncs.
        changed = copy.deepcopy(standin.scenario)
        for team in changed["teams"]:
            team["members"] = [m for m in team["members"] if m["login"] != "bob"]
        syncs = server.health()[1]["syncs"]
        standin.set_scenario(changed)
        server.reload()
        server.wait_health(200, check=lambda body: body["syncs"] > syncs)

        status, reason, _, text = upload.finish()
        assert status == 403, (status, reason, text)
        assert "write access was removed during the upload" in reason, reason
        storage = server.settings["index"]["storage_dir"]
        stored = os.listdir(os.path.join(storage, "acme-core")) \
            if os.path.isdir(os.path.join(storage, "acme-core")) else []
        assert filename not in stored, stored
        wait_for(lambda: temporary_files(server) == {}, what="the temporary file to go")
        assert "decision=deny" in server.log() and "acme-core" in server.log()


if __name__ == "__main__":
    run_tests()
