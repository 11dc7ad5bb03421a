"""The commands a newcomer runs: `ownerbot db upgrade`, `serve`, `chat`, `import`, as real processes."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OWNERBOT = str(ROOT / "ownerbot")  # the command line README documents: ./ownerbot serve | chat | db | import


def run(
    args: list[str], cwd: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "DATABASE_URL"))}
    full_env.update(env or {})
    return subprocess.run(
        [OWNERBOT, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    assert (tmp_path / "ownerbot.sqlite3").exists()  # the default database lives in the working directory
    return tmp_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_bad_setting_fails_with_one_line_naming_it(tmp_path: Path) -> None:
    result = run(["serve"], tmp_path, env={"PORT": "not-a-port"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "PORT" in result.stderr
    bad_db = run(["db", "upgrade"], tmp_path, env={"DATABASE_URL": "mysql://x"})
    assert bad_db.returncode == 2 and "DATABASE_URL" in bad_db.stderr


def test_serve_answers_healthz_and_says_what_it_serves(workdir: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "DATABASE_URL"))}
    env["PORT"] = str(port)
    server = subprocess.Popen(
        [OWNERBOT, "serve"], cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        body = ""
        deadline = time.monotonic() + 60  # a loaded machine (the suite runs in parallel) starts it slowly
        while not body and server.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    body = response.read().decode()
            except OSError:
                time.sleep(0.1)
        assert '"status": "ok"' in body and "sqlite" in body
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert f"serving on http://127.0.0.1:{port}" in output
    assert "console: on" in output
    assert "slack: off" in output  # no Slack settings: says so, and why
    assert "helpdesk webhook: off" in output


@pytest.mark.timeout(360)  # a dozen real processes: slow on a loaded 2-core machine
def test_the_readme_quick_start_works_as_printed(tmp_path: Path) -> None:
    """The console part of README's quick start, its commands and typed lines taken from README itself."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme[readme.index("## Quick start") : readme.index("## Commands")]
    blocks = re.findall(r"```(?:sh)?\n(.*?)```", quick_start, re.S)
    shell = next(b for b in blocks if "./ownerbot chat" in b).strip().splitlines()
    typed = next(b for b in blocks if b.startswith("customer add"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "DATABASE_URL"))}
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    outputs = []
    for number, line in enumerate(shell):
        command = line.replace("./ownerbot", OWNERBOT)
        stdin = typed if number == len(shell) - 1 else None  # the last line's chat reads what Ana types
        done = subprocess.run(
            command, shell=True, cwd=tmp_path, env=env, input=stdin, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert "Added Acme Corp (premium)" in outputs[-1], outputs[-1]
    assert "Ana now owns Acme Corp." in outputs[-1]
    assert "Handoff of Acme Corp to @Sam requested" in outputs[-1], outputs[-1]
    assert "`./ownerbot chat --as U2 --name Sam` shows Sam the offer" in quick_start
    sam = run(["chat", "--as", "U2", "--name", "Sam"], tmp_path, stdin="accept\nhistory acme corp\n")
    assert "@Ana wants to hand Acme Corp over to you" in sam.stdout  # the offer waiting in his inbox
    assert "You now own Acme Corp." in sam.stdout
    assert "Sam accepted it from Ana: she speaks German with their CTO (via console)" in sam.stdout

    # A withdrawal, typed as printed; Ana's inbox has it and the audit trail keeps it.
    withdraw = next(b for b in blocks if b.startswith("handoff Acme Corp @Ana"))
    sam = run(["chat", "--as", "U2", "--name", "Sam"], tmp_path, stdin=withdraw)
    assert "Handoff of Acme Corp to @Ana requested" in sam.stdout, sam.stdout
    assert "Withdrew the handoff of Acme Corp to @Ana; @Sam still owns it." in sam.stdout
    ana = run(["chat", "--as", "U1", "--name", "Ana"], tmp_path, stdin="history acme corp\n")
    assert "📬 @Sam withdrew the handoff of Acme Corp to @Ana; there is nothing to answer." in ana.stdout
    assert "Sam withdrew the offer to Ana: she ran their onboarding last year (via console)" in ana.stdout

    # The CSV import and the re-import, as printed, with the output the README promises.
    imports = next(b for b in blocks if "import customers.csv" in b).strip().splitlines()
    printed = []
    for line in imports:
        command = line.replace("./ownerbot", OWNERBOT)
        done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        printed.append(done.stdout)
    promised = re.findall(r"`(line \d[^`]*|Imported [^`]*)`", " ".join(quick_start.split()))
    assert len(promised) == 3
    assert promised[0] in printed[1] and promised[1] in printed[1], printed[1]  # the dry run
    assert promised[2] in printed[2], printed[2]
    who = run(["chat", "--as", "U1", "--name", "Ana"], tmp_path, stdin="whoowns crm-1\nwhoowns globex\n")
    assert "Sam owns Acme Corp." in who.stdout and "Ana owns Globex." in who.stdout


def test_import_is_all_or_nothing_and_reports_lines(workdir: Path) -> None:
    run(["chat", "--as", "U1", "--name", "Ana"], workdir, stdin="mine\n")
    bad = workdir / "bad.csv"
    bad.write_text(
        "name,tier,external id,owner\nAcme,premium,crm-1,Ana\nGlobex,gold,crm-2,\n,basic,,\n"
        "Initech,basic,crm-3,Nobody\n",
        encoding="utf-8",
    )
    result = run(["import", str(bad)], workdir)
    assert result.returncode == 1
    assert "line 3" in result.stderr and '"gold" is not a tier' in result.stderr
    assert "line 4" in result.stderr and "line 5" in result.stderr and "Nobody" in result.stderr
    listing = run(["chat", "--as", "U1", "--name", "Ana"], workdir, stdin="customers\n")
    assert "No customers yet" in listing.stdout  # nothing half-imported

    good = workdir / "good.csv"
    good.write_text("Name,Tier,External ID,Owner\nAcme,premium,crm-1,Ana\nGlobex,,crm-2,\n", encoding="utf-8")
    result = run(["import", str(good)], workdir)
    assert result.returncode == 0 and "Imported 2 customer(s)" in result.stdout
    who = run(["chat", "--as", "U2", "--name", "Sam"], workdir, stdin="whoowns crm-1\nwhoowns globex\n")
    assert "Ana owns Acme." in who.stdout and "Nobody owns Globex." in who.stdout


def test_the_readme_nudges_recipe_shows_the_owner_then_the_lead_a_premium_breach(tmp_path: Path) -> None:
    """README's "Try nudges locally", its shell lines and typed lines taken from README itself, as real processes."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    recipe = readme[readme.index("## Try nudges locally") : readme.index("## Commands")]
    blocks = re.findall(r"```(?:sh)?\n(.*?)```", recipe, re.S)
    setup, typed, sweeps = blocks[0].strip().splitlines(), blocks[1], blocks[2].strip().splitlines()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "DATABASE_URL", "NUDGE_"))}

    def sh(line: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            line.replace("./ownerbot", OWNERBOT),
            shell=True,
            cwd=tmp_path,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    outputs = [sh(line, typed if number == len(setup) - 1 else None) for number, line in enumerate(setup)]
    assert "Opened #1 for Acme Corp: Export fails" in outputs[-1], outputs[-1]
    first, sam, second, ana = (sh(line) for line in sweeps)
    assert first.startswith("Nudges at 2026-11-24 09:30 UTC:") and "failed" in first
    assert "Ticket #1 (Acme Corp: Export fails) missed its service level." in sam and "climbed" not in sam
    assert "Ticket #1 (Acme Corp: Export fails) missed its service level." in ana
    assert "It climbed to you from the owner" in ana and "Sam" in ana
    assert second.startswith("Nudges at 2026-11-24 10:00 UTC: 1 sent")


def test_every_nudge_setting_is_documented() -> None:
    from nudges.settings import NudgeSettings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in NudgeSettings.model_fields if f"`NUDGE_{name.upper()}`" not in readme]
    assert missing == []


def test_nudges_run_refuses_a_bad_moment(workdir: Path) -> None:
    result = run(["nudges", "run", "--at", "tomorrow morning"], workdir)
    assert result.returncode == 2 and "is not a moment" in result.stderr and result.stderr.count("\n") == 1


def test_holidays_import_from_an_ics_file(workdir: Path) -> None:
    ics = workdir / "holidays.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ownerbot tests//EN\r\n"
        "BEGIN:VEVENT\r\nUID:xmas\r\nDTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261227\r\n"
        "SUMMARY:Weihnachten 🎄\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    assert (
        run(["holiday", "import", str(ics)], workdir).stdout.strip() == "Imported 3 holiday(s); 0 were already there."
    )
    again = run(["holiday", "import", str(ics)], workdir)
    assert again.stdout.strip() == "Imported 0 holiday(s); 3 were already there."
    listed = run(["chat", "--as", "U1", "--name", "Ana", "--at", "2026-11-24 09:00"], workdir, stdin="holiday list\n")
    assert "Thu 24 Dec 2026: Weihnachten 🎄" in listed.stdout and "Sat 26 Dec 2026" in listed.stdout, listed.stdout
    bad = workdir / "bad.ics"
    bad.write_text("not a calendar", encoding="utf-8")
    refused = run(["holiday", "import", str(bad)], workdir)
    assert refused.returncode == 1 and "not an iCalendar" in refused.stderr
