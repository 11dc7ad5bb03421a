"""What an operator sees of real `./ownerbot` processes: JSON log lines, a clean stop on SIGTERM/SIGINT that
finishes the request in flight, one clear line when the port is taken, /metrics after commands."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from bot.web.webhooks import PATH as WEBHOOK_PATH
from bot.web.webhooks import sign

from .test_cli import OWNERBOT, free_port, run

SECRET = "operating-webhook-secret"
WORDS = "Quokka-7 says the exports still eat our invoices"  # a customer's words: never in a log line


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    return tmp_path


def test_one_json_log_line_per_command_and_never_the_customers_words(workdir: Path) -> None:
    typed = [
        "customer add Globex",
        "claim globex",
        f"idea globex {WORDS}",
        "ticket open globex Exports fail",
        f"ticket note 1 --from-customer {WORDS}",
        f"handoff globex {WORDS}",  # refused: nobody to hand it to
        "field",
    ]
    done = run(
        ["chat", "--as", "U1", "--name", "Ana"],
        workdir,
        stdin="\n".join(typed) + "\nquit\n",
        env={"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG", "OWNERBOT_ADMINS": "U1"},
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]  # every line is JSON
    commands = [line for line in lines if line.get("event") == "command"]
    assert [(c["command"], c["outcome"]) for c in commands] == [
        ("customer", "ok"),
        ("claim", "ok"),
        ("idea", "ok"),
        ("ticket", "ok"),
        ("ticket", "ok"),
        ("handoff", "refused"),
        ("field", "ok"),
    ]
    for line in commands:
        assert {"request_id", "workspace", "platform", "outcome", "duration_ms", "level", "asctime"} <= set(line)
        assert line["platform"] == "console" and line["workspace"] == "console:local"
    assert "Quokka" not in done.stderr and "invoices" not in done.stderr


class Server:
    """`./ownerbot serve` on a free port, its output read line by line on a thread."""

    def __init__(self, workdir: Path, **env: str) -> None:
        self.port = free_port()
        full = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "DATABASE_URL"))}
        full.update(PORT=str(self.port), TICKET_WEBHOOK_SECRET=SECRET, SHUTDOWN_TIMEOUT_SECONDS="30", **env)
        self.process = subprocess.Popen(
            [OWNERBOT, "serve"], cwd=workdir, env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, seconds: float = 60) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.output.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} in:\n{''.join(self.output)}")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def ready(self) -> None:
        deadline = time.monotonic() + 60  # a loaded machine starts it slowly
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if self.get("/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("the server never became ready")

    def finish(self) -> str:
        rest, _ = self.process.communicate(timeout=60)
        return "".join(self.output) + "".join(self.lines.queue) + (rest or "")


def test_sigterm_stops_accepting_finishes_the_request_in_flight_and_logs_it(workdir: Path) -> None:
    server = Server(workdir)
    try:
        server.ready()
        body = json.dumps(
            {
                "event": "created",
                "source": "acmedesk",
                "updated_at": "2026-11-23T09:00:00Z",
                "ticket": {"id": "T-7", "subject": "Exports time out"},
                "customer": {"name": "Globex"},
            }
        ).encode()
        head = (
            f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-Ownerbot-Signature: {sign(SECRET, body)}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        # The request is in flight while SIGTERM arrives: it waits for the database, whose write lock we hold.
        lock = sqlite3.connect(workdir / "ownerbot.sqlite3", isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        in_flight = socket.create_connection(("127.0.0.1", server.port), timeout=60)
        in_flight.sendall(head + body)
        time.sleep(1)  # the server reads it and its handler waits for the lock
        server.process.send_signal(signal.SIGTERM)
        server.wait_for("stopping (SIGTERM)")
        server.wait_for("listener closed")
        with pytest.raises(OSError):  # no new connections
            socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
        lock.execute("COMMIT")  # the request in flight goes on, and completes
        lock.close()
        answer = b""
        while chunk := in_flight.recv(65536):
            answer += chunk
        in_flight.close()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert b'"status": "applied"' in answer
        assert server.process.wait(timeout=60) == 0
    finally:
        if server.process.poll() is None:
            server.process.kill()
    output = server.finish()
    assert "stopped cleanly in" in output
    assert "Traceback" not in output


def test_sigint_stops_cleanly_too(workdir: Path) -> None:
    server = Server(workdir)
    try:
        server.ready()
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=60) == 0
    finally:
        if server.process.poll() is None:
            server.process.kill()
    output = server.finish()
    assert "stopping (SIGINT)" in output and "stopped cleanly in" in output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output


def test_a_port_in_use_is_one_clear_line(workdir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run(["serve"], workdir, env={"PORT": str(port)})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"ownerbot: 127.0.0.1:{port} is already in use: stop whatever listens there, or set HOST/PORT"
    )
    assert "Traceback" not in done.stderr


def test_curl_metrics_after_a_few_commands_shows_their_counters(workdir: Path) -> None:
    """Commands typed in the console count in that process; the server counts what it handles: webhooks here."""
    server = Server(workdir)
    try:
        server.ready()
        body = json.dumps(
            {
                "event": "created",
                "updated_at": "2026-11-23T09:00:00Z",
                "ticket": {"id": "T-1", "subject": "Hi"},
                "customer": {"name": "Globex"},
            }
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}{WEBHOOK_PATH}",
            data=body,
            headers={"Content-Type": "application/json", "X-Ownerbot-Signature": sign(SECRET, body)},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        status, text = server.get("/metrics")
        assert status == 200
        assert 'ownerbot_webhook_deliveries_total{outcome="applied",source="helpdesk"} 1.0' in text
        assert "ownerbot_nudges_due 0.0" in text
    finally:
        server.process.terminate()
        server.finish()
