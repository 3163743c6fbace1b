"""Import benchmark: the real ``quotebot import`` CLI on files from an independent generator.

For each scale, writes (or reuses) a JSON or CSV file made by :mod:`import_gen` (not by
``corpus_gen``), then runs ``python -m bot --db FRESH.db import FILE`` as a child process
and reports its wall time and peak RSS (from ``wait4``), the rows it added, and the time of
the first lookup after it (a ``quotebot who`` on the imported database: it must not pay for
building the search index). Run on demand::

    .venv/bin/python bench/bench_import.py --scales 10000,100000,1000000

Targets (issue 13): 1M rows in at most 120 s within 600 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import import_gen  # noqa: E402

OUT = HERE / "out"


def run(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd``; its wall time, peak RSS (MB), return code and output tail."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        proc = subprocess.Popen(cmd, stdout=out_file, stderr=err_file)
        # wait4 rather than Popen.wait: it also returns this child's own resource usage.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    return {
        "wall_s": round(time.perf_counter() - start, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "rc": proc.returncode,
        "stdout_tail": out.decode(errors="replace")[-300:],
        "stderr_tail": err.decode(errors="replace")[-500:],
    }


def measure(scale: int, fmt: str, reuse: bool) -> dict[str, Any]:
    data = OUT / f"import-{scale}.{fmt}"
    if not (reuse and data.exists()):
        t = time.perf_counter()
        import_gen.write(data, scale, fmt)
        print(f"wrote {data} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    db = OUT / f"import-{scale}-{fmt}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    py = sys.executable
    # An empty database is seeded first (9 quotes) by the CLI itself; that is part of the
    # measured run, as it is for a user.
    result = run([py, "-m", "bot", "import", str(data), "--db", str(db)])
    first = run([py, "-m", "bot", "who", "foundation", "--limit", "5", "--db", str(db)])
    return {
        "scale": scale,
        "format": fmt,
        "file_mb": round(data.stat().st_size / 1e6, 1),
        "import": result,
        "first_lookup_after_import_s": first["wall_s"],
        "first_lookup_rc": first["rc"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="10000,100000")
    parser.add_argument("--format", choices=("json", "csv"), default="json")
    parser.add_argument("--reuse", action="store_true", help="reuse a generated file")
    args = parser.parse_args()
    rows = [measure(int(s), args.format, args.reuse) for s in args.scales.split(",")]
    for row in rows:
        imp = row["import"]
        print(
            f"{row['scale']:>9,} {row['format']}: {imp['wall_s']:>7.1f} s, "
            f"peak {imp['peak_rss_mb']:>7.1f} MB, rc {imp['rc']}; "
            f"first lookup after {row['first_lookup_after_import_s']:.2f} s",
            file=sys.stderr,
        )
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
