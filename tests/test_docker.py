"""The Dockerfile, .dockerignore and compose.yaml say what the image needs.

No Docker engine runs here. hadolint (``make lint``) checks the Dockerfile's style; the
image's own program is the wheel, tested installed in a fresh venv by test_packaging.py,
which also runs the Dockerfile's HEALTHCHECK command against it. What neither can see is
checked here, by reading the files: the build context holds every file the Dockerfile
copies and no secret or database, the final stage holds the installed venv and nothing to
build with, the volume is created writable before VOLUME, and compose.yaml runs that
image with that volume.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "compose.yaml"


# -- Dockerfile parsing -----------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int


@dataclass
class Stage:
    base: str
    name: str | None
    steps: list[Instruction] = field(default_factory=list)


def instructions(text: str) -> list[Instruction]:
    """Logical instructions: comments dropped, backslash continuations joined."""
    result: list[Instruction] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # Docker drops comment lines, also inside a continued instruction
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer.append(line[:-1].strip())
            continue
        buffer.append(line)
        keyword, _, args = " ".join(buffer).partition(" ")
        result.append(Instruction(keyword.upper(), args.strip(), start))
        buffer = []
    assert not buffer, "the Dockerfile ends inside a continued instruction"
    return result


def stages(text: str) -> list[Stage]:
    found: list[Stage] = []
    for step in instructions(text):
        if step.keyword == "FROM":
            words = step.args.split()
            assert not words[0].startswith("--"), "FROM --platform is not replayed"
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            found.append(Stage(words[0], name))
        else:
            assert found, f"line {step.line}: {step.keyword} before FROM"
            found[-1].steps.append(step)
    return found


def split_flags(args: str) -> tuple[dict[str, str], str]:
    """``--from=builder --chown=1:1 a b`` → ({"from": "builder", "chown": "1:1"}, "a b")."""
    flags: dict[str, str] = {}
    while args.startswith("--"):
        word, _, args = args.partition(" ")
        key, _, value = word[2:].partition("=")
        flags[key] = value
        args = args.strip()
    return flags, args


def exec_form(args: str) -> list[str]:
    """The JSON (exec) form of CMD/HEALTHCHECK CMD, or the shell form run by /bin/sh -c."""
    if args.startswith("["):
        value = json.loads(args)
        assert isinstance(value, list) and all(isinstance(v, str) for v in value)
        return value
    return ["/bin/sh", "-c", args]


def stage_steps(stage: Stage, keyword: str) -> list[Instruction]:
    return [step for step in stage.steps if step.keyword == keyword]


# -- .dockerignore ----------------------------------------------------------------------


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Docker's pattern syntax: Go filepath.Match plus ``**`` for any number of folders."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            body = "^" + body[1:] if body.startswith(("^", "!")) else body
            out, i = out + f"[{body}]", end + 1
        elif pattern[i] == "\\" and i + 1 < len(pattern):
            out, i = out + re.escape(pattern[i + 1]), i + 2
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


@dataclass
class DockerIgnore:
    rules: list[tuple[bool, str, re.Pattern[str]]]

    @classmethod
    def parse(cls, text: str) -> DockerIgnore:
        rules = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
            rules.append((negated, pattern, _glob_regex(pattern)))
        return cls(rules)

    def excluded(self, path: str) -> bool:
        """Whether ``path`` (relative, ``/``-separated) stays out of the build context.

        As in Docker: the last matching rule wins, and a rule matches a path when it matches
        the path itself or one of the folders above it.
        """
        parts = path.split("/")
        candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        result = False
        for negated, _, regex in self.rules:
            if any(regex.fullmatch(c) for c in candidates):
                result = not negated
        return result


# -- the tests --------------------------------------------------------------------------


def dockerfile_stages() -> tuple[Stage, Stage]:
    builder, final = stages(DOCKERFILE.read_text(encoding="utf-8"))
    return builder, final


def test_hadolint_exceptions_are_inline_and_explained() -> None:
    for number, line in enumerate(DOCKERFILE.read_text(encoding="utf-8").splitlines(), 1):
        if "hadolint" in line and "ignore" in line:
            assert re.search(r"hadolint ignore=DL\d{4}\b.*\S", line), f"line {number}: say why"


def test_builder_installs_the_locked_dependencies_and_the_wheel_not_the_tree() -> None:
    builder, _ = dockerfile_stages()
    runs = " && ".join(s.args for s in stage_steps(builder, "RUN"))
    assert "--require-hashes -r requirements.lock" in runs
    assert "--require-hashes -r requirements-build.lock" in runs
    assert re.search(r"pip wheel .*--no-deps .*--no-build-isolation", runs)
    assert re.search(r"install [^&]*--no-deps [^&]*\.whl", runs), "the wheel, without its deps"
    assert not re.search(r"(--editable|\s-e)\s", runs), "an editable install needs the tree"
    assert all("--no-cache-dir" in part for part in runs.split("&&") if " install " in part)


def test_final_stage_holds_the_venv_only_and_runs_unprivileged() -> None:
    builder, final = dockerfile_stages()
    # One pinned slim Python base for both stages (the venv moves between them).
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", builder.base), builder.base
    assert final.base == builder.base and builder.name and final.name is None
    copies = [split_flags(s.args) for s in stage_steps(final, "COPY")]
    assert copies == [({"from": builder.name}, "/opt/venv /opt/venv")], "nothing but the venv"
    for step in stage_steps(final, "RUN"):
        assert not re.search(r"\b(apt-get|apt|apk|gcc|cc|make|build-essential|pip)\b", step.args)
    (user,) = stage_steps(final, "USER")
    assert re.fullmatch(r"[1-9]\d*:[1-9]\d*", user.args), "numeric and not root"
    env = " ".join(s.args for s in stage_steps(final, "ENV")).split()
    assert "QUOTEBOT_DB=/data/quotebot.db" in env
    assert 'PATH="/opt/venv/bin:$PATH"' in env
    assert [s.args for s in stage_steps(final, "VOLUME")] == ["/data"]
    assert [s.args for s in stage_steps(final, "STOPSIGNAL")] == ["SIGINT"]
    (health,) = stage_steps(final, "HEALTHCHECK")
    assert "--start-period=" in health.args
    (cmd,) = stage_steps(final, "CMD")
    assert exec_form(cmd.args) == ["quotebot", "run"]
    # /data is created and given to the bot user before VOLUME, or the chown is lost.
    keywords = [s.keyword for s in final.steps]
    chown = [i for i, s in enumerate(final.steps) if s.keyword == "RUN" and "/data" in s.args]
    assert chown and keywords.index("VOLUME") > max(chown)
    assert f"chown {user.args} /data" in final.steps[max(chown)].args


def test_build_context_holds_every_copied_file_and_no_secret() -> None:
    rules = DockerIgnore.parse(DOCKERIGNORE.read_text(encoding="utf-8"))
    builder, final = dockerfile_stages()
    sources = [
        word
        for step in stage_steps(builder, "COPY") + stage_steps(final, "COPY")
        if "from" not in split_flags(step.args)[0]
        for word in split_flags(step.args)[1].split()[:-1]
    ]
    assert sources, "the builder copies nothing?"
    for source in sources:
        path = ROOT / source
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        for file in files:
            rel = file.relative_to(ROOT).as_posix()
            if "__pycache__" not in rel:
                assert file.exists() and not rules.excluded(rel), f"COPY {source}: {rel} left out"
    for path in (
        ".env",
        "bot/.env",
        "data/.env.local",
        "quotebot.db",
        "quotebot.db-wal",
        "data/quotebot.db",
        "data/other.sqlite3",
        "bot/__pycache__/store.cpython-311.pyc",
        ".venv/bin/python",
        ".git/HEAD",
        "tests/test_store.py",
        "bench/out/results.json",
        "build/lib/bot/store.py",
        "dist/quotebot-0.1.0-py3-none-any.whl",
        "quotebot.egg-info/PKG-INFO",
    ):
        assert rules.excluded(path), path


def test_compose_runs_the_image_with_its_volume_env_file_and_restart_policy() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    (service,) = compose["services"].values()
    assert service["build"] in (".", {"context": "."})
    assert service["env_file"] in (".env", [".env"])
    assert service["restart"] == "unless-stopped"
    grace = re.fullmatch(r"(\d+)s", service["stop_grace_period"])
    assert grace and int(grace.group(1)) >= 10, "time to finish the updates in hand"
    _, final = dockerfile_stages()
    (volume_path,) = [s.args for s in stage_steps(final, "VOLUME")]
    mounts = [m.split(":") for m in service["volumes"]]
    assert [target for _, target in mounts] == [volume_path]
    assert [name for name, _ in mounts] == list(compose["volumes"]), "a named volume"
    assert "healthcheck" not in service or not service["healthcheck"].get("disable")


def test_readme_shows_the_compose_file_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    docker = readme.split("\n## Docker\n")[1].split("\n## ")[0]
    assert "docker compose up -d" in docker
    assert f"```yaml\n{COMPOSE.read_text(encoding='utf-8')}```" in docker
