"""Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
JSON messages ending in a NUL byte on file descriptors 3 and 4), for tests that must look at
a page more than once while it changes - `--dump-dom` gives one look at the end. Standard
library only.

    with Browser() as b:
        b.open("http://127.0.0.1:8700/")
        b.wait_for("document.querySelectorAll('#nodes tbody tr').length === 3")
        b.screenshot("page.png")
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One headless Chromium with one page (a tab), driven by `evaluate` and `wait_for`."""

    def __init__(self, width: int = 1400, height: int = 1100) -> None:
        exe = chromium()
        if exe is None:
            raise FileNotFoundError("chromium is not installed (`make test` installs it)")
        self.profile = tempfile.mkdtemp(prefix="swarm-cdp-")
        to_child, self.writer = os.pipe()
        self.reader, from_child = os.pipe()

        def on_3_and_4() -> None:  # in the child, before exec: the protocol's descriptors
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)

        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
             f"--window-size={width},{height}", "about:blank"],
            pass_fds=(3, 4), preexec_fn=on_3_and_4, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_child)
        os.close(from_child)
        self.buffer = b""
        self.next_id = 0
        self.session = None
        self.errors: list[str] = []  # uncaught exceptions of the page's scripts
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")

    # ---- the protocol ---------------------------------------------------------------------
    def call(self, method: str, timeout: float = 60.0, **params):
        """Send one command (to the page once attached); its result, or RuntimeError."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self.writer, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise TimeoutError("chromium did not answer")
            import select

            ready, _, _ = select.select([self.reader], [], [], 0.5)
            if ready:
                chunk = os.read(self.reader, 1 << 20)
                if not chunk:
                    raise ConnectionError("chromium closed the pipe")
                self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        message = json.loads(message)
        if message.get("method") == "Runtime.exceptionThrown":  # an error in the page
            details = message["params"]["exceptionDetails"]
            self.errors.append(details.get("exception", {}).get("description")
                               or details.get("text", "?"))
        return message

    # ---- the page -------------------------------------------------------------------------
    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (JSON-like values)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0):
        """Poll until the expression is truthy (errors count as not yet); its value."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
                if value:
                    return value
                last = value
            except RuntimeError as e:
                last = str(e)[:300]
            time.sleep(0.25)
        raise AssertionError(f"not true after {timeout:g} s: {expression} (last: {last})")

    def screenshot(self, path: str) -> None:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data["data"]))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        os.close(self.writer)
        os.close(self.reader)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
