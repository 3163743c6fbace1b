"""The wheel a user installs works on its own, from any directory.

The wheel is built from a copy of the source tree (so nothing is written into the
checkout) by the locked setuptools, and installed with ``--no-deps --no-index`` into a new
virtual environment that has no pip and no project source. Its dependencies come from this
test run's environment through a ``.pth`` line: a path listed in a ``.pth`` file is only
added to ``sys.path``, its own ``.pth`` files (the editable install's finder among them)
are not run, so ``bot`` can only be the wheel's copy. Nothing is downloaded: the whole
module takes a few seconds.

The installed command is run as a user would, from another directory: seed, who, chat,
run without a token (the console), and run with a token against the project's fake Bot
API served on loopback, stopped with SIGINT as ``docker stop`` stops the image.

That the runtime dependencies of the wheel are exactly what requirements.lock pins is
checked separately, from the installed metadata.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.fake_telegram.api import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "bot", "data")
TOKEN = "1234567:" + "AAHfakefakefakefakefakefakefakefak1"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.db", "*.db-*")


def source_files(folder: str) -> set[str]:
    """Files of a source folder as the wheel must hold them (no caches, no databases)."""
    base = ROOT / folder
    return {
        p.relative_to(base).as_posix()
        for p in base.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not re.search(r"\.(pyc|db.*)$", p.name)
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("checkout")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=IGNORED)
        else:
            shutil.copy2(source, tree / name)
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index"),
            *("--no-build-isolation", "--wheel-dir", str(dist), str(tree)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = dist.glob("quotebot-*.whl")
    return found


@dataclass
class Installed:
    venv: Path
    site_packages: Path
    home: Path  # a working directory with no source tree, no .env

    def run(
        self, *argv: str, stdin: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        clean = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("QUOTEBOT_", "TELEGRAM_", "WEBHOOK_", "PYTHON", "VIRTUAL_ENV"))
            and k != "LOG_LEVEL"
        }
        command = [str(self.venv / "bin" / argv[0]), *argv[1:]]
        return subprocess.run(
            command,
            input=stdin,
            cwd=self.home,
            env={**clean, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    site_packages = Path(purelib)
    (site_packages / "test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", python, "install", "--quiet"),
            *("--no-deps", "--no-index", str(wheel)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    yield Installed(venv, site_packages, tmp_path_factory.mktemp("elsewhere"))


def test_wheel_holds_every_module_and_every_data_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {n.removeprefix("bot/") for n in names if n.startswith("bot/")}
    missing = {f for f in source_files("bot") if f not in modules}
    assert not missing, (
        f"not in the wheel: {sorted(missing)}; a new subpackage of bot/ must be added to "
        "[tool.setuptools] packages in pyproject.toml"
    )
    shipped = {n.removeprefix("bot/data/") for n in names if n.startswith("bot/data/")}
    assert shipped == source_files("data")
    assert {"statements.txt", "catalog.toml"} <= shipped
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "data/"))]


def test_wheel_metadata_names_the_licence_in_spdx_form(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (meta,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(meta).decode()
        licence = [n for n in archive.namelist() if n.endswith("/licenses/LICENSE")]
    assert "License-Expression: MIT" in text.splitlines()
    assert licence, "LICENSE is not in the wheel"


def test_installed_command_seeds_and_looks_up_from_any_directory(
    installed: Installed,
) -> None:
    db = installed.home / "quotes.db"
    seeded = installed.run("quotebot", "seed", "--db", str(db))
    assert (seeded.returncode, seeded.stderr) == (0, "")
    assert seeded.stdout == "statements.txt: 9 added, 0 already present\n"

    who = installed.run("quotebot", "who", "hall", "--db", str(db))
    assert who.returncode == 0, who.stderr
    assert "Julia Hall" in who.stdout

    # The default database lands in the working directory, seeded by itself.
    listed = installed.run("quotebot", "speakers", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "Julia Hall" in {s["name"] for s in json.loads(listed.stdout)}
    assert (installed.home / "quotebot.db").is_file()


def test_installed_package_is_the_wheel_and_reads_its_own_data(installed: Installed) -> None:
    probe = "import bot, bot.seed_data as d; print(bot.__file__); print(d.data_dir())"
    done = installed.run("python", "-c", probe)
    assert done.returncode == 0, done.stderr
    module, data = map(Path, done.stdout.splitlines())
    assert module == installed.site_packages / "bot" / "__init__.py"
    assert data == installed.site_packages / "bot" / "data"
    assert ROOT not in module.parents


def test_uninstalled_checkout_says_what_to_do(installed: Installed) -> None:
    """bot/ put on the path straight from the checkout, without installing it, has no
    bot.data: a one-line error that says how to install, not a traceback."""
    done = installed.run("python", "-m", "bot", "seed", PYTHONPATH=str(ROOT))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "seed data (bot.data) is not installed" in done.stderr


def test_installed_chat_and_run_without_token_open_the_console(installed: Installed) -> None:
    chat = installed.run("quotebot", "chat", stdin="/who hall\n")
    assert chat.returncode == 0, chat.stderr
    assert "Julia Hall" in chat.stdout

    run = installed.run("quotebot", "run", stdin="/quote 1\n")
    assert run.returncode == 0, run.stderr
    assert "No TELEGRAM_BOT_TOKEN is set" in run.stderr
    assert "#1" in run.stdout


def test_image_health_check_runs_against_the_installed_package(installed: Installed) -> None:
    """The Dockerfile's HEALTHCHECK command, as written: unhealthy (and nothing created)
    before the database exists, healthy once the bot has seeded it."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(r"^HEALTHCHECK .*? CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert match, "no HEALTHCHECK in exec form"
    command = json.loads(match.group(1))
    db = installed.home / "volume" / "quotebot.db"
    db.parent.mkdir()

    before = installed.run(*command, QUOTEBOT_DB=str(db))
    assert before.returncode != 0
    assert not db.exists(), "the health check must not create the database"
    assert installed.run("quotebot", "stats", QUOTEBOT_DB=str(db)).returncode == 0
    after = installed.run(*command, QUOTEBOT_DB=str(db))
    assert after.returncode == 0, after.stderr


def runtime_closure(wheel: Path) -> dict[str, str]:
    """Every distribution the wheel needs at run time on this interpreter (not its dev
    extra), with the version installed here. The wheel's own requirements come from its
    METADATA: the truth of what ships, whatever metadata a source checkout has lying around."""
    with zipfile.ZipFile(wheel) as archive:
        (meta,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        own = Parser().parsestr(archive.read(meta).decode()).get_all("Requires-Dist") or []
    found: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    todo = [(line, "") for line in own]
    while todo:
        line, extra = todo.pop()
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        for wanted in ("", *req.extras):
            if (canonicalize_name(req.name), wanted) in seen:
                continue
            seen.add((canonicalize_name(req.name), wanted))
            dist = metadata.distribution(req.name)
            found[canonicalize_name(req.name)] = dist.version
            todo += [(sub, wanted) for sub in dist.requires or []]
    return found


def locked(lock: str) -> dict[str, str]:
    """The pins of a lock file that apply on this interpreter; each must carry hashes."""
    pins: dict[str, str] = {}
    for entry in re.split(r"\n(?=[A-Za-z0-9])", (ROOT / lock).read_text(encoding="utf-8")):
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s;]+)(?: ; ([^\\]+))?", entry)
        if not match:
            continue
        assert "--hash=sha256:" in entry, f"{lock}: {match.group(1)} has no hash"
        name, version, marker = match.groups()
        if marker is None or Marker(marker).evaluate():
            pins[canonicalize_name(name)] = version
    return pins


def test_runtime_lock_pins_exactly_what_the_package_needs(wheel: Path) -> None:
    """requirements.lock (the image's) pins the runtime closure at the versions the tests
    ran with, and none of the dev tools; requirements-dev.lock agrees with it."""
    needed = runtime_closure(wheel)
    runtime = locked("requirements.lock")
    assert runtime == needed, "requirements.lock is stale: run `make lock`"
    dev = locked("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime
    assert {"pytest", "mypy", "ruff"} <= dev.keys() - runtime.keys()


def test_build_lock_pins_the_build_backend_of_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requires = project["build-system"]["requires"]
    assert project["dependency-groups"]["build"] == requires
    pins = locked("requirements-build.lock")
    for line in requires:
        req = Requirement(line)
        assert req.specifier.contains(pins[canonicalize_name(req.name)]), line


class ServedBotAPI(tornado.web.RequestHandler):
    """The project's fake Bot API (bot.fake_telegram), served over HTTP on loopback so a
    separate ``quotebot run`` process can poll it; the fake is the same one every test uses."""

    def initialize(self, fake: FakeBotAPI) -> None:
        self.fake = fake

    async def post(self) -> None:
        request = self.request
        ctype = request.headers.get("Content-Type", "")
        status, body = await self.fake.handle(request.path, request.query, ctype, request.body)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


async def test_installed_bot_answers_on_telegram_and_stops_on_the_stop_signal(
    installed: Installed,
) -> None:
    """`quotebot run` from the wheel, with a token, against a Bot API on loopback at DEBUG:
    it seeds its database, answers a user, never logs the token, and exits 0 on SIGINT
    (the image's STOPSIGNAL) — what `docker stop` does."""
    fake = FakeBotAPI(valid_token=TOKEN)
    server = tornado.httpserver.HTTPServer(
        tornado.web.Application([(r"/.*", ServedBotAPI, {"fake": fake})])
    )
    (sock,) = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server.add_sockets([sock])
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": f"http://127.0.0.1:{sock.getsockname()[1]}",
        "LOG_LEVEL": "DEBUG",
        "QUOTEBOT_DB": str(installed.home / "run" / "quotebot.db"),
        "PATH": os.environ.get("PATH", ""),
    }
    (installed.home / "run").mkdir()
    process = await asyncio.create_subprocess_exec(
        str(installed.venv / "bin" / "quotebot"),
        "run",
        cwd=installed.home,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(60):
            while not fake.calls_to("getUpdates"):
                assert process.returncode is None, "the bot exited before polling"
                await asyncio.sleep(0.1)
            fake.user_message("/who hall", chat_id=4242)
            (reply,) = await fake.wait_for_sent(chat_id=4242, within=30)
            assert "Julia Hall" in reply.text
            process.send_signal(signal.SIGINT)
            output, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        server.stop()
    logged = output.decode()
    assert process.returncode == 0, logged[-3000:]
    assert "getUpdates" in logged, "nothing logged at DEBUG?"
    assert TOKEN not in logged and TOKEN.partition(":")[2] not in logged
    assert fake.token_seen == {TOKEN}


def test_installed_cite_renders_apa_and_chicago_from_the_shipped_styles(
    installed: Installed,
) -> None:
    db = installed.home / "cite.db"
    apa = installed.run("quotebot", "cite", "1", "--style", "apa", "--db", str(db))
    assert apa.returncode == 0, apa.stderr
    assert apa.stdout.startswith("Amnesty International. (2014, January 9).")
    chicago = installed.run("quotebot", "cite", "1", "--style", "chicago", "--db", str(db))
    assert chicago.returncode == 0 and "In text: (Amnesty International 2014)" in chicago.stdout
