"""browser.py - headless Chromium driven over the DevTools protocol, standard library only.

Chromium's --remote-debugging-pipe takes protocol commands on file
descriptor 3 and writes answers and events on descriptor 4, each message
a JSON text ended by a NUL byte.  One Browser is one Chromium process with
a profile directory of its own (its own cookies); one page (tab) is
attached with a flat session.

    with Browser() as browser:
        browser.goto("http://127.0.0.1:8081/")
        browser.wait_for("document.querySelector('#signin')")
        browser.click("#signin")
        browser.screenshot("build/page.png")

Elements are polled for (wait_for) rather than waiting for load events.
Skip is raised when Chromium is not installed.
"""

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

from harness import Skip, workdir

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-quic", "--disable-extensions", "--mute-audio",
         "--hide-scrollbars", "--remote-debugging-pipe"]


def chromium_binary():
    # Debian's /usr/bin/chromium is a shell wrapper: start the program itself.
    if os.access("/usr/lib/chromium/chromium", os.X_OK):
        return "/usr/lib/chromium/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _above(fd, minimum):
    """fd moved to a number >= minimum (the old one closed)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, minimum)
    os.close(fd)
    return moved


class BrowserError(AssertionError):
    pass


class Browser:
    """One headless Chromium with its own profile; width x height is the window."""

    def __init__(self, width=1100, height=900):
        binary = chromium_binary()
        if binary is None:
            raise Skip("chromium is not installed (scripts/install-deps.sh installs it)")
        self.profile = tempfile.mkdtemp(prefix="chromium-", dir=workdir())
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Out of the way of 3 and 4, which bash sets below (dash takes 0-9 only).
        to_browser_r = _above(to_browser_r, 10)
        from_browser_w = _above(from_browser_w, 10)
        argv = ["bash", "-c", 'exec "$0" "$@" 3<&%d 4>&%d %d<&- %d>&-' % (
            to_browser_r, from_browser_w, to_browser_r, from_browser_w),
            binary] + FLAGS + ["--user-data-dir=" + self.profile,
                               "--window-size=%d,%d" % (width, height), "about:blank"]
        self.stderr_path = os.path.join(self.profile, "stderr.log")
        self._stderr = open(self.stderr_path, "wb")
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._stderr,
                                      stderr=self._stderr, pass_fds=(to_browser_r, from_browser_w))
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._answers = {}
        self._events = []
        self._lock = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.page("Page.enable")
        self.page("Runtime.enable")
        self.page("Network.enable")

    # ---- the protocol ----------------------------------------------------

    def _read(self):
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                with self._lock:
                    self._closed = True
                    self._lock.notify_all()
                return
            buffer += chunk
            while b"\0" in buffer:
                message, buffer = buffer.split(b"\0", 1)
                value = json.loads(message.decode("utf-8"))
                with self._lock:
                    if "id" in value:
                        self._answers[value["id"]] = value
                    else:
                        self._events.append(value)
                    self._lock.notify_all()

    def _send(self, method, params, session=None, timeout=15.0):
        with self._lock:
            self._next_id += 1
            number = self._next_id
        message = {"id": number, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode("utf-8") + b"\0")
        deadline = time.monotonic() + timeout
        with self._lock:
            while number not in self._answers:
                if self._closed:
                    raise BrowserError("chromium exited: " + self.log())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BrowserError("no answer to %s within %.0fs" % (method, timeout))
                self._lock.wait(left)
            answer = self._answers.pop(number)
        if "error" in answer:
            raise BrowserError("%s: %s" % (method, answer["error"]))
        return answer.get("result", {})

    def call(self, method, **params):
        """A command to the browser itself."""
        return self._send(method, params)

    def page(self, method, **params):
        """A command to the attached page."""
        return self._send(method, params, session=self.session)

    def log(self):
        with open(self.stderr_path, "rb") as file:
            return file.read().decode("utf-8", "replace")[-3000:]

    # ---- pages -------------------------------------------------------------

    def goto(self, url):
        result = self.page("Page.navigate", url=url)
        if result.get("errorText"):
            raise BrowserError("navigation to %s failed: %s" % (url, result["errorText"]))

    def evaluate(self, expression):
        result = self.page("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError("%s: %s" % (expression, result["exceptionDetails"]))
        return result["result"].get("value")

    def wait_for(self, expression, timeout=10.0, what=None):
        """Poll expression until it is true-ish; return its value."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                # An element comes back as {}: report it as found.
                value = self.evaluate("(v => v instanceof Node ? true : v)(%s)" % expression)
                if value:
                    return value
            except BrowserError as error:   # a page in the middle of loading
                last = error
            time.sleep(0.05)
        raise BrowserError("timed out waiting for %s (at %s)%s" % (
            what or expression, self.url(), " last error: %s" % last if last else ""))

    def url(self):
        try:
            return self.evaluate("location.href")
        except BrowserError:
            return "?"

    def html(self):
        return self.evaluate("document.documentElement.outerHTML")

    def text(self, selector):
        return self.evaluate("(e => e ? e.innerText : null)(document.querySelector(%s))"
                             % json.dumps(selector))

    def click(self, selector):
        if not self.evaluate("(e => e ? (e.click(), true) : false)(document.querySelector(%s))"
                             % json.dumps(selector)):
            raise BrowserError("no element %s at %s" % (selector, self.url()))

    def cookies(self):
        return self.page("Network.getCookies")["cookies"]

    def set_width(self, width, height=900, mobile=False):
        self.page("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=mobile)

    def screenshot(self, path, full_page=True):
        params = {"format": "png"}
        if full_page:
            metrics = self.page("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": metrics["width"],
                              "height": min(metrics["height"], 4000), "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.page("Page.captureScreenshot", **params)["data"]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))
        return path

    # ---- lifetime ---------------------------------------------------------

    def close(self):
        if self.popen.poll() is None:
            try:
                self._send("Browser.close", {}, timeout=5)
            except (BrowserError, OSError):
                pass
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        self._stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
