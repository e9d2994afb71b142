"""Starts `coffer-dev emulator` for one test module and stops it after.

Every SDK test file runs the same emulator binary with its own flags; this
is the one place that knows how to start it, wait until it answers, and
stop it even when a test failed.
"""

import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def admin(base, path):
    """GET one of the emulator's `/_emulator/...` pages as JSON."""
    with urllib.request.urlopen(base + path, timeout=5) as response:
        return json.load(response)


def run(tmp_path_factory, flags):
    """Yields the base URL of an emulator started with `flags`; a generator
    for a pytest fixture to `yield from`."""
    for base, _log in start(tmp_path_factory, flags):
        yield base


def run_tls(tmp_path_factory, flags):
    """Like `run`, with HTTPS beside HTTP: yields the admin API's answer to
    `GET /_emulator/tls` (`url`, `caFile`, `caPem`), after checking that the
    log names the CA file as the admin API does."""
    tls_port = free_port()
    for base, log in start(tmp_path_factory, [*flags, "--tls-listen", f"127.0.0.1:{tls_port}"]):
        tls = admin(base, "/_emulator/tls")
        assert tls["url"] == f"https://127.0.0.1:{tls_port}"
        assert tls["caFile"] in log.read_text(), "the log does not name the CA file"
        yield tls


def start(tmp_path_factory, flags):
    """Yields (base URL, log path) of a running emulator, and stops it after."""
    binary = os.environ.get("COFFER_DEV_BIN", os.path.join(ROOT, "target", "debug", "coffer-dev"))
    port = free_port()
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    args = [binary, "emulator", "--listen", f"127.0.0.1:{port}", *flags]
    with open(log, "w") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"emulator exited with {process.returncode}: {log.read_text()}")
            try:
                admin(base, "/_emulator/counters")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"emulator did not answer within 30 s: {log.read_text()}")
                time.sleep(0.05)
        yield base, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
