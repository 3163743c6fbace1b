"""A second synthetic corpus, written independently of :mod:`corpus_gen`, as import files.

Different on purpose from ``corpus_gen`` so that tuning to one generator does not pass:

* vocabulary: words harvested from the docstrings of the Python standard library (a real,
  technical English that shares little with human-rights prose), drawn with a Zipf law of
  exponent 1.1 and no hand-picked head;
* quote length: log-normal, 8 to 120 words, with sentence punctuation;
* speakers: names with particles and hyphens (``van der Berg``, ``de la Cruz``,
  ``O'Neill``, ``Smith-Jones``), a fifth with Cyrillic originals given in Cyrillic;
* organisations: ``<Surname> Foundation`` / ``Committee for <Word>``, so that surnames and
  organisation names collide as in the independent run of issue 13;
* cases: ``<First> <Surname>`` people, a third of quotes naming one to three cases.

Deterministic for a given seed; writes a JSON array (``--format json``) or CSV with the
import's field names (text, speaker, role, organisation, cases, date).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import pydoc
import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path

_MODULES = [
    "collections",
    "argparse",
    "asyncio",
    "json",
    "csv",
    "re",
    "pathlib",
    "subprocess",
    "threading",
    "logging",
    "functools",
    "itertools",
    "datetime",
    "decimal",
    "email",
    "http.client",
    "urllib.parse",
    "sqlite3",
    "zipfile",
    "tarfile",
    "shutil",
    "tempfile",
    "typing",
    "dataclasses",
    "enum",
    "inspect",
    "unittest",
    "textwrap",
    "string",
]

_PARTICLES = ["van der", "de la", "von", "di", "al", "ter", "da"]
_GIVEN = [
    "Agnieszka",
    "Bartholomew",
    "Cosima",
    "Dmitri",
    "Eleanor",
    "Florian",
    "Guadalupe",
    "Hamid",
    "Ignatius",
    "Jolanta",
    "Konrad",
    "Ludmila",
    "Maximilian",
    "Nkechi",
    "Oswaldo",
    "Perpetua",
    "Quentin",
    "Rosalind",
    "Siddharth",
    "Thandiwe",
    "Ulrich",
    "Violetta",
    "Wilhelmina",
    "Xiomara",
    "Yevgenia",
    "Zebulon",
    "Glenn",
    "Gene",
    "Rory",
    "Rhoda",
]
_CYR_GIVEN = [
    "Бауыржан",
    "Гульнара",
    "Дархан",
    "Жибек",
    "Ильяс",
    "Камила",
    "Марат",
    "Назира",
    "Олжас",
    "Сауле",
]
_CYR_STEMS = [
    "Ахмет",
    "Байтур",
    "Досым",
    "Жаксы",
    "Кенже",
    "Мусабай",
    "Нурпеис",
    "Сейткали",
    "Токтар",
    "Утеген",
]
_CYR_ENDS = ["ов", "ова", "ев", "ева", "ұлы", "қызы", "ин", "бекова"]


def vocabulary() -> list[str]:
    """Distinct lower-case words of the standard library's docstrings, most frequent first."""
    counts: dict[str, int] = {}
    for name in _MODULES:
        try:
            module = __import__(name, fromlist=["_"])
        except ImportError:  # pragma: no cover - every module above is in the stdlib
            continue
        text = pydoc.render_doc(module, renderer=pydoc.plaintext)
        for word in re.findall(r"[a-z]{2,14}", text.lower()):
            counts[word] = counts.get(word, 0) + 1
    return sorted(counts, key=lambda w: (-counts[w], w))


def _surname(rng: random.Random, words: list[str]) -> str:
    base = rng.choice(words[200:3000]).capitalize()
    roll = rng.random()
    if roll < 0.12:
        return f"{rng.choice(_PARTICLES)} {base}"
    if roll < 0.22:
        return f"{base}-{rng.choice(words[200:3000]).capitalize()}"
    if roll < 0.28:
        return f"O'{base}"
    if roll < 0.34:
        return f"Mc{base}"
    return base


def people(rng: random.Random, words: list[str], n: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        if rng.random() < 0.2:
            name = f"{rng.choice(_CYR_GIVEN)} {rng.choice(_CYR_STEMS)}{rng.choice(_CYR_ENDS)}"
            if rng.random() < 0.5:
                name += f" {rng.choice(_CYR_STEMS)}"
        else:
            name = f"{rng.choice(_GIVEN)} {_surname(rng, words)}"
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def records(n: int, seed: int = 7) -> Iterator[dict[str, object]]:
    rng = random.Random(seed)
    words = vocabulary()
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(words))]
    cumulative: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    n_speakers = max(20, min(5000, n // 200))
    speakers = people(rng, words, n_speakers)
    orgs = []
    for _ in range(max(5, n_speakers // 12)):
        if rng.random() < 0.6:
            orgs.append(f"{_surname(rng, words).split()[-1]} Foundation")
        else:
            orgs.append(f"Committee for {rng.choice(words[100:2000]).capitalize()}")
    orgs = sorted(set(orgs))
    speaker_org = {s: (rng.choice(orgs) if rng.random() < 0.8 else "") for s in speakers}
    cases = people(rng, words, max(5, n_speakers // 20))
    for i in range(n):
        length = max(8, min(120, int(rng.lognormvariate(math.log(28), 0.6))))
        chosen = rng.choices(words, cum_weights=cumulative, k=length)
        sentences: list[str] = []
        start = 0
        while start < length:
            end = min(length, start + rng.randint(6, 22))
            sentences.append(" ".join(chosen[start:end]).capitalize() + ".")
            start = end
        speaker = rng.choice(speakers)
        org = speaker_org[speaker]
        role = rng.choice(["Chair", "Counsel", "Analyst", "Secretary", "Rapporteur"])
        if org:
            role = f"{role}, {org}"
        named = rng.sample(cases, k=rng.choice([0, 0, 1, 1, 2, 3])) if cases else []
        yield {
            "text": f"{' '.join(sentences)} [{i}]",  # the index keeps every text unique
            "speaker": speaker,
            "role": role,
            "organisation": org,
            "cases": named,
            "date": f"{rng.randint(2005, 2025)}-{rng.randint(1, 12):02d}",
        }


def write(path: Path, n: int, fmt: str, seed: int = 7) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as out:
        if fmt == "json":
            out.write("[\n")
            for i, rec in enumerate(records(n, seed)):
                out.write(("" if i == 0 else ",\n") + json.dumps(rec, ensure_ascii=False))
            out.write("\n]\n")
        else:
            fields = ["text", "speaker", "role", "organisation", "cases", "date"]
            writer = csv.DictWriter(out, fieldnames=fields)
            writer.writeheader()
            for rec in records(n, seed):
                writer.writerow({**rec, "cases": ";".join(rec["cases"])})  # type: ignore[arg-type]
    tmp.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--format", choices=("json", "csv"), default="json")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    write(args.out, args.n, args.format, args.seed)
    print(args.out, file=sys.stderr)


if __name__ == "__main__":
    main()
