"""Benchmark the lookup engine on synthetic corpora (not a test; see bench/corpus_gen.py).

    .venv/bin/python bench/bench_search.py --scales 10000,100000
    nohup .venv/bin/python bench/bench_search.py --scales 1000000 > bench/out/1m.log 2>&1 &

For each scale, in separate processes (so each peak RSS is its own):

* build: generate the corpus, import it through ``QuoteStore.add_quotes`` (the real path,
  FTS5 triggers included: "ingest"), then build the lookup index (vocabulary, deletion index:
  "index build") and write a labelled query set;
* serve: a fresh process opens the database, loads the lookup and answers every query twice
  with up to 50 results, as the bot asks (restart-to-first-answer includes interpreter
  start-up and imports); median and p99 latency per query type, recall@5 on the queries
  whose target is unambiguous. "types" is the second (warm) pass; "first_pass" the first,
  whose figures depend on how much of the database the OS still caches;
* baseline: rapidfuzz ``process.extract`` (WRatio) over every quote text, on a sample of the
  text queries.

Two corpus generators (``--generator``): ``gen`` (bench/corpus_gen.py, the default) and ``alt``
(bench/corpus_alt.py: another vocabulary, name generator, typo model and query mix), so that
tuning to one does not pass; databases are ``bench-SCALE.db`` and ``bench-alt-SCALE.db``.

Query types: single rare words (exact, one typo, two typos), phrases (exact, with one or two
typos, five words with one typo: ``phrase5_typo1``), phrases of common words
(``common_phrase``, "simple the is the a"), three words from a quote in another order with
one or two typos (``words_typo``) or with two typos *each* (``words_typo2``), speaker names
(exact, with typos, in Cyrillic), surnames alone with one or two typos
(``who_surname_typo``), organisations (acronym or misspelt name) and cases (misspelt or
Cyrillic). ``multi-word`` sums the phrase and three-word types. corpus_gen's typos are random
substitutions, deletions, insertions and transpositions; corpus_alt has its own. A line
``SUMMARY`` gives search p50/p99 and the multi-word and surname-typo recall@5.

recall@5 counts only queries whose target is unambiguous: for text, exactly one quote holds the
words as they were before the typos (for phrases: the exact phrase; for single words: a word no
other quote has), *and* every misspelt word is still nearer (edit distance) to its original
than to any other word of the corpus; for names, exactly one speaker/case has that name (after
spelling-variant folding) and, when misspelt, it is still the uniquely nearest name (for
``who_surname_typo``: nearer than any other speaker's name or surname, and than any word of
an organisation's or a case's name).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import corpus_alt  # noqa: E402
import corpus_gen  # noqa: E402

from bot.search.service import Lookup, LookupResult  # noqa: E402
from bot.store import QuoteStore  # noqa: E402

OUT = ROOT / "bench" / "out"
LIMIT = 50  # results per lookup, as the bot asks (recall looks at the first five)
LETTERS = "abcdefghijklmnopqrstuvwxyz"
MULTI_WORD_TYPES = (
    "phrase",
    "phrase_typo",
    "words_typo",
    "words_typo2",
    "common_phrase",
    "phrase5_typo1",
)
TEXT_TYPES = ("word", "word_typo1", "word_typo2", *MULTI_WORD_TYPES)
NAME_TYPES = (
    "who",
    "who_typo",
    "who_surname_typo",
    "who_cyrillic",
    "org",
    "case_typo",
    "case_cyrillic",
)
GENERATORS = {"gen": corpus_gen, "alt": corpus_alt}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- typos ----------------------------------------------------------------------------------


def typo(word: str, rng: random.Random, edits: int) -> str:
    for _ in range(100):
        out = word
        for _ in range(edits):
            i = rng.randrange(len(out))
            op = rng.choice("sdit")
            if op == "s":
                out = out[:i] + rng.choice(LETTERS.replace(out[i].lower(), "")) + out[i + 1 :]
            elif op == "d" and len(out) > 3:
                out = out[:i] + out[i + 1 :]
            elif op == "i":
                out = out[:i] + rng.choice(LETTERS) + out[i:]
            elif i + 1 < len(out) and out[i] != out[i + 1]:
                out = out[:i] + out[i + 1] + out[i] + out[i + 2 :]
        if out.lower() != word.lower():
            return out
    return word + "x"


# -- build ------------------------------------------------------------------------------------


def fresh(db: Path, reuse: bool) -> bool:
    """Delete the database unless it is to be reused; True when it must be built."""
    if reuse and db.exists():
        return False
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    return True


def queries_file(db: Path) -> Path:
    return db.parent / db.name.replace("bench-", "queries-").replace(".db", ".json")


async def build(scale: int, db: Path, reuse: bool, generator: str) -> dict[str, Any]:
    result: dict[str, Any] = {"scale": scale, "generator": generator}
    corpus = GENERATORS[generator].make_corpus(seed=1)
    if fresh(db, reuse):
        store = await QuoteStore.open(db)
        started = time.perf_counter()
        for batch in corpus.quotes(scale):
            await store.add_quotes(batch, corpus.catalog, batch[0].source)
        result["ingest_s"] = round(time.perf_counter() - started, 1)
    else:
        store = await QuoteStore.open(db)
        result["ingest_s"] = None
    from bot.search import sql as search_store

    started = time.perf_counter()
    state = await store.run(lambda conn: search_store.refresh_index(conn, force=True))
    result["index_build_s"] = round(time.perf_counter() - started, 1)
    result["terms"] = state.terms
    await store.run(lambda conn: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
    result["queries"] = await store.run(make_queries, corpus, scale)
    await store.close()
    return result


def build_phase(scale: int, db: Path, reuse: bool, generator: str) -> dict[str, Any]:
    result = asyncio.run(build(scale, db, reuse, generator))
    queries = result.pop("queries")
    queries_file(db).write_text(json.dumps(queries, ensure_ascii=False))
    result["db_mb"] = round(db.stat().st_size / 1e6, 1)
    result["build_peak_rss_mb"] = round(peak_rss_mb(), 1)
    return result


def make_queries(conn: sqlite3.Connection, corpus: Any, scale: int) -> list[dict[str, Any]]:
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    from bot.search.query import STOP_WORDS as ENGINE_STOP_WORDS
    from bot.search.query import fts_phrase, fts_string, name_key, word_key

    rng = random.Random(42)
    mix: dict[str, int] = getattr(corpus, "query_mix", {})
    make_typo = getattr(corpus, "typo", typo)

    def per(kind: str) -> int:
        return int(mix.get(kind, 40))

    max_id = conn.execute("SELECT max(id) FROM quotes").fetchone()[0]
    # "content words" below: in neither the engine's stop list nor the corpus's commonest
    commonest = conn.execute("SELECT key FROM search_terms ORDER BY df DESC LIMIT 60").fetchall()
    stop = set(ENGINE_STOP_WORDS) | {k for (k,) in commonest}
    stop |= set(getattr(corpus_gen, "STOP_WORDS", ()))

    def df(word: str) -> int:
        sql = "SELECT df FROM search_terms WHERE key = ?"
        row = conn.execute(sql, (word_key(word),)).fetchone()
        return int(row[0]) if row else 0

    def count(match: str) -> int:
        sql = "SELECT count(*) FROM (SELECT rowid FROM quotes_fts WHERE quotes_fts MATCH ? LIMIT 3)"
        return int(conn.execute(sql, (match,)).fetchone()[0])

    def quote() -> tuple[int, list[str]]:
        qid = rng.randint(1, max_id)
        text = conn.execute("SELECT text FROM quotes WHERE id = ?", (qid,)).fetchone()[0]
        words = [w.strip(".,!…").lower() for w in text.split()]
        words = [w[:-2] if w.endswith(("’s", "'s")) else w for w in words]
        return qid, [w for w in words if w.isalpha()]

    queries: list[dict[str, Any]] = []

    def add(kind: str, query: str, command: str, target: Any, unambiguous: bool) -> None:
        queries.append(
            {
                "type": kind,
                "query": query,
                "command": command,
                "target": target,
                "unambiguous": unambiguous,
            }
        )

    vocab = [k for (k,) in conn.execute("SELECT key FROM search_terms")]

    def nearest_is(word: str, typed: str) -> bool:
        """``word`` is the only closest vocabulary word to ``typed``."""
        best = process.extract(word_key(typed), vocab, scorer=OSA.distance, limit=2, score_cutoff=4)
        return bool(best) and best[0][0] == word and (len(best) == 1 or best[1][1] > best[0][1])

    for kind, edits in (("word", 0), ("word_typo1", 1), ("word_typo2", 2)):
        made = 0
        while made < per(kind):
            for _ in range(50):  # prefer quotes holding a word no other quote has
                qid, words = quote()
                content = [w for w in words if w not in stop and len(w) >= (7 if edits else 5)]
                if content and df(min(content, key=df)) == 1:
                    break
            if not content:
                continue
            word = min(content, key=df)
            typed = make_typo(word, rng, edits) if edits else word
            unique = df(word) == 1 and (not edits or nearest_is(word_key(word), typed))
            add(kind, typed, "search", qid, unique)
            made += 1
    # phrases: 3-5 words (one or two typos); five words, one typo; mostly common words
    phrase_kinds = (
        ("phrase", 0, (3, 5), 2),
        ("phrase_typo", 2, (3, 5), 2),
        ("phrase5_typo1", 1, (5, 5), 2),
        ("common_phrase", 0, (4, 6), 0),
    )
    for kind, edits, (low, high), min_content in phrase_kinds:
        made = tries = 0
        while made < per(kind) and tries < per(kind) * 200:
            tries += 1
            qid, words = quote()
            n = rng.randint(low, high)
            if len(words) < n:
                continue
            start = rng.randrange(len(words) - n + 1)
            phrase = words[start : start + n]
            content_count = sum(w not in stop for w in phrase)
            if content_count < min_content:
                continue
            if kind == "common_phrase" and content_count != 1:
                continue  # one word that is not common, as in "simple the is the a"
            misspelt = list(phrase)
            spots = [i for i, w in enumerate(phrase) if w not in stop and len(w) >= 4]
            for i in rng.sample(spots, min(edits, len(spots))):
                misspelt[i] = make_typo(misspelt[i], rng, 1)
            unique = count(fts_phrase(phrase)) == 1 and all(
                a == b or nearest_is(word_key(a), b) for a, b in zip(phrase, misspelt, strict=True)
            )
            add(kind, " ".join(misspelt), "search", qid, unique)
            made += 1
    # three words of a quote in another order: one or two with a typo; each with two typos
    for kind, min_len in (("words_typo", 4), ("words_typo2", 7)):
        made = tries = 0
        while made < per(kind) and tries < per(kind) * 200:
            tries += 1
            qid, words = quote()
            content = list(dict.fromkeys(w for w in words if w not in stop and len(w) >= min_len))
            if len(content) < 3:
                continue
            picked = rng.sample(content, 3)
            misspelt = list(picked)
            if kind == "words_typo":
                for _ in range(rng.randint(1, 2)):
                    i = rng.randrange(3)
                    misspelt[i] = make_typo(misspelt[i], rng, 1)
            else:
                misspelt = [make_typo(w, rng, 2) for w in picked]
            unique = count(" AND ".join(fts_string(w) for w in picked)) == 1 and all(
                a == b or nearest_is(word_key(a), b) for a, b in zip(picked, misspelt, strict=True)
            )
            add(kind, " ".join(misspelt), "search", qid, unique)
            made += 1

    surnames: dict[str, int] = {}  # by name_key: spelling variants meet
    for spec in corpus.speakers:
        k = name_key(spec.person.surname)
        surnames[k] = surnames.get(k, 0) + 1
    speakers = dict(conn.execute("SELECT name, id FROM speakers").fetchall())
    present = [s for s in corpus.speakers if s.person.name in speakers]
    speaker_keys = {
        s.person.name: (name_key(s.person.name), name_key(s.person.surname)) for s in present
    }
    # Every other name a typed surname could be nearer to: organisations and cases, whole
    # and word by word.
    other_names: set[str] = set()
    for org in corpus.organisations:
        other_names.add(name_key(org.name))
        other_names.update(name_key(org.name).split())
    for c in corpus.cases:
        other_names.add(name_key(c.case.name))
        other_names.update(name_key(c.case.name).split())
    other_names -= {k for ks in speaker_keys.values() for k in ks}
    others = sorted(other_names)

    def closest(typed: str, target: str, keys: Mapping[str, tuple[str, ...]]) -> bool:
        """``target`` is the only name whose (full or last) name is nearest to ``typed``."""
        q = name_key(typed)
        dist = {name: min(OSA.distance(q, k) for k in ks) for name, ks in keys.items()}
        mine = dist[target]
        return all(d > mine for name, d in dist.items() if name != target)

    def nearest_anywhere(typed: str, target: str) -> bool:
        """``closest`` among speakers, and no organisation or case name is as near."""
        if not closest(typed, target, speaker_keys):
            return False
        q = name_key(typed)
        mine = min(OSA.distance(q, k) for k in speaker_keys[target])
        best = process.extractOne(q, others, scorer=OSA.distance) if others else None
        return best is None or best[1] > mine

    for kind in ("who", "who_typo", "who_surname_typo"):
        for spec in rng.sample(present, min(per(kind), len(present))):
            surname = spec.person.surname
            unique = surnames[name_key(surname)] == 1
            if kind == "who":
                query = surname.lower() if rng.random() < 0.6 else spec.person.name
            elif kind == "who_typo":
                base = surname if rng.random() < 0.6 else spec.person.name
                query = make_typo(base, rng, 1 + (len(surname) >= 7))
                unique = unique and closest(query, spec.person.name, speaker_keys)
            else:  # the surname alone, lower case, one or two typos
                query = make_typo(surname.lower(), rng, rng.choice((1, 2)))
                unique = unique and nearest_anywhere(query, spec.person.name)
            add(kind, query, "who", spec.person.name, unique)
    cyrillic = [s for s in present if s.person.cyrillic]
    for spec in rng.sample(cyrillic, min(per("who_cyrillic"), len(cyrillic))):
        surname = spec.person.cyrillic_surname or ""
        query = surname if rng.random() < 0.6 else spec.person.cyrillic or ""
        unique = surnames[name_key(spec.person.surname)] == 1
        add("who_cyrillic", query, "who", spec.person.name, unique)
    acronyms: dict[str, int] = {}
    for org in corpus.organisations:
        for a in org.aliases:
            acronyms[a] = acronyms.get(a, 0) + 1
    orgs = dict(
        conn.execute(
            "SELECT o.name, o.id FROM organisations o WHERE EXISTS "
            "(SELECT 1 FROM speakers s WHERE s.organisation_id = o.id)"
        ).fetchall()
    )
    org_keys = {o.name: (name_key(o.name),) for o in corpus.organisations}
    with_speakers = [o for o in corpus.organisations if o.name in orgs]
    for org in rng.sample(with_speakers, min(per("org"), len(with_speakers))):
        if org.aliases and rng.random() < 0.4:
            add("org", org.aliases[0].lower(), "who", org.name, acronyms[org.aliases[0]] == 1)
        else:
            words = org.name.split()
            i = max(range(len(words)), key=lambda j: len(words[j]))
            words[i] = make_typo(words[i], rng, 1)
            typed = " ".join(words)
            add("org", typed, "who", org.name, closest(typed, org.name, org_keys))
    tagged = {
        name
        for (name,) in conn.execute(
            "SELECT DISTINCT c.name FROM quote_cases qc JOIN cases c ON c.id = qc.case_id"
        )
    }
    cases = [c for c in corpus.cases if c.case.name in tagged]
    case_keys = {c.case.name: (name_key(c.person.name), name_key(c.person.surname)) for c in cases}
    for c in rng.sample(cases, min(per("case_typo"), len(cases))):
        typed = make_typo(c.person.surname, rng, 1 + (len(c.person.surname) >= 7))
        add("case_typo", typed, "case", c.case.name, closest(typed, c.case.name, case_keys))
    cyr_cases = [c for c in cases if c.person.cyrillic]
    case_surnames: dict[str, int] = {}
    for c in cases:
        k = name_key(c.person.surname)
        case_surnames[k] = case_surnames.get(k, 0) + 1
    for c in rng.sample(cyr_cases, min(per("case_cyrillic"), len(cyr_cases))):
        cyrillic_name = c.person.cyrillic_surname if rng.random() < 0.5 else c.person.cyrillic
        unique = case_surnames[name_key(c.person.surname)] == 1
        add("case_cyrillic", cyrillic_name or "", "case", c.case.name, unique)
    return queries


# -- serve ------------------------------------------------------------------------------------


def found(result: LookupResult, q: dict[str, Any], k: int = 5) -> bool:
    hits = result.hits[:k]
    if q["type"] in TEXT_TYPES:
        return any(h.quote.id == q["target"] for h in hits)
    if q["type"] == "org":
        return any(h.quote.organisation == q["target"] for h in hits)
    if q["command"] == "case":
        return any(q["target"] in h.quote.cases for h in hits)
    return any(h.quote.speaker == q["target"] for h in hits)


def _figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ms = sorted(r["ms"] for r in rows)
    cpu = sorted(r.get("cpu_ms", r["ms"]) for r in rows)
    judged = [r for r in rows if r["unambiguous"]]
    return {
        "n": len(rows),
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2),
        "max_ms": round(ms[-1], 2),
        # CPU time of the process per lookup: what the wall figures would be on an idle
        # machine (this one is shared; the wall figures include waiting for a core).
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "cpu_p99_ms": round(cpu[min(len(cpu) - 1, int(len(cpu) * 0.99))], 2),
        "recall@5": round(sum(r["found"] for r in judged) / len(judged), 3) if judged else None,
        "unambiguous": len(judged),
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    groups = [(kind, (kind,)) for kind in (*TEXT_TYPES, *NAME_TYPES)]
    groups += [
        ("search", TEXT_TYPES),
        ("multi-word", MULTI_WORD_TYPES),
        ("who/case", NAME_TYPES),
        ("all", (*TEXT_TYPES, *NAME_TYPES)),
    ]
    out: dict[str, Any] = {}
    for label, kinds in groups:
        mine = [r for r in rows if r["type"] in kinds]
        if mine:
            out[label] = _figures(mine)
    return out


async def serve(queries: list[dict[str, Any]], db: Path, spawned_at: float) -> dict[str, Any]:
    started = time.perf_counter()
    store = await QuoteStore.open(db)
    lookup = Lookup(store, answers_kept=0)  # the engine, not its memory of answers
    await lookup.load()
    load_s = time.perf_counter() - started
    first = await lookup.search(queries[0]["query"], limit=LIMIT)
    first_answer_s = time.time() - spawned_at
    del first
    passes: list[dict[str, Any]] = []
    misses: list[dict[str, Any]] = []
    for _ in range(2):  # the first pass meets a cold page cache, the second a warm one
        rows = []
        for q in queries:
            call = getattr(lookup, q["command"])
            t, cpu = time.perf_counter(), time.process_time()
            result = await call(q["query"], limit=LIMIT)
            ms = (time.perf_counter() - t) * 1000
            cpu_ms = (time.process_time() - cpu) * 1000
            ok = found(result, q)
            rows.append(
                {
                    "type": q["type"],
                    "ms": ms,
                    "cpu_ms": cpu_ms,
                    "unambiguous": q["unambiguous"],
                    "found": ok,
                }
            )
            if q["unambiguous"] and not ok and len(misses) < 40 and not passes:
                misses.append(
                    {
                        "type": q["type"],
                        "query": q["query"],
                        "target": q["target"],
                        "got": [(h.quote.id, h.score) for h in result.hits[:3]],
                    }
                )
        passes.append(summarise(rows))
    await store.close()
    return {
        "load_s": round(load_s, 2),
        "restart_to_first_answer_s": round(first_answer_s, 2),
        "serve_peak_rss_mb": round(peak_rss_mb(), 1),
        "types": passes[1],
        "first_pass": passes[0],
        "misses": misses,
    }


def baseline(scale: int, db: Path, sample: int) -> dict[str, Any]:
    from rapidfuzz import fuzz, process, utils

    queries = json.loads(queries_file(db).read_text())
    conn = sqlite3.connect(db)
    ids, texts = [], []
    for qid, text in conn.execute("SELECT id, text FROM quotes"):
        ids.append(qid)
        texts.append(utils.default_process(text))
    conn.close()
    rng = random.Random(7)
    text_queries = [q for q in queries if q["type"] in TEXT_TYPES]
    if sample and len(text_queries) > sample:
        text_queries = rng.sample(text_queries, sample)
    rows = []
    for q in text_queries:
        t = time.perf_counter()
        best = process.extract(
            utils.default_process(q["query"]), texts, scorer=fuzz.WRatio, processor=None, limit=5
        )
        ms = (time.perf_counter() - t) * 1000
        ok = any(ids[index] == q["target"] for _, _, index in best)
        rows.append({"type": q["type"], "ms": ms, "unambiguous": q["unambiguous"], "found": ok})
    return {"baseline_peak_rss_mb": round(peak_rss_mb(), 1), "types": summarise(rows)}


# -- driver -----------------------------------------------------------------------------------


def headline(generator: str, scale: int, types: Mapping[str, Any]) -> str:
    """The issue-13 figures in one line: search latency and the two recalls."""
    search, multi = types.get("search", {}), types.get("multi-word", {})
    surname = types.get("who_surname_typo", {})
    return (
        f"SUMMARY {generator} {scale:,}: search p50 {search.get('p50_ms')} ms, "
        f"p99 {search.get('p99_ms')} ms (CPU {search.get('cpu_p50_ms')} / "
        f"{search.get('cpu_p99_ms')} ms, load {os.getloadavg()[0]:.1f}); "
        f"multi-word recall@5 {multi.get('recall@5')} "
        f"(n={multi.get('unambiguous')}); who surname-typo recall@5 "
        f"{surname.get('recall@5')} (n={surname.get('unambiguous')})"
    )


def child(phase: str, scale: int, db: Path, extra: list[str]) -> dict[str, Any]:
    result_file = db.parent / f"{phase}-{db.stem}.json"
    result_file.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        __file__,
        "--phase",
        phase,
        "--scales",
        str(scale),
        "--db",
        str(db),
        "--spawned-at",
        repr(time.time()),
        *extra,
    ]
    subprocess.run(cmd, check=True)
    return dict(json.loads(result_file.read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="10000,100000", help="comma-separated quote counts")
    parser.add_argument("--out", default=str(OUT), help="folder for databases and results")
    parser.add_argument("--reuse", action="store_true", help="reuse an existing database")
    parser.add_argument(
        "--baseline-sample",
        type=int,
        default=0,
        help="text queries for the baseline (default: all up to 100k, 12 above)",
    )
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--generator",
        choices=sorted(GENERATORS),
        default="gen",
        help="corpus generator: gen (bench/corpus_gen.py) or alt (bench/corpus_alt.py, "
        "different vocabulary, names, typos and query mix)",
    )
    parser.add_argument("--phase", choices=("build", "serve", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--spawned-at", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",") if s]
    if args.phase:
        db = Path(args.db)
        scale = scales[0]
        if args.phase == "build":
            result = build_phase(scale, db, args.reuse, args.generator)
        elif args.phase == "serve":
            queries = json.loads(queries_file(db).read_text())
            result = asyncio.run(serve(queries, db, args.spawned_at))
        else:
            result = baseline(scale, db, args.baseline_sample)
        (db.parent / f"{args.phase}-{db.stem}.json").write_text(json.dumps(result))
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "cpus": os.cpu_count(),
        "scales": {},
    }
    for scale in scales:
        tag = "" if args.generator == "gen" else f"{args.generator}-"
        db = out / f"bench-{tag}{scale}.db"
        print(f"== {scale:,} quotes ({args.generator})", flush=True)
        generator = ["--generator", args.generator]
        built = child("build", scale, db, [*generator, *(["--reuse"] if args.reuse else [])])
        print(json.dumps(built), flush=True)
        served = child("serve", scale, db, [])
        shown = {k: v for k, v in served.items() if k not in ("misses", "first_pass")}
        print(json.dumps(shown, indent=1), flush=True)
        first = {k: v for k, v in served["first_pass"].items() if k in ("search", "who/case")}
        print("first (cold) pass:", json.dumps(first), flush=True)
        print(headline(args.generator, scale, served["types"]), flush=True)
        entry = {"build": built, "serve": served}
        if not args.no_baseline:
            sample = args.baseline_sample or (0 if scale <= 100_000 else 12)
            based = child("baseline", scale, db, ["--baseline-sample", str(sample)])
            print("baseline", json.dumps(based, indent=1), flush=True)
            entry["baseline"] = based
        report["scales"][str(scale)] = entry
        stamp = time.strftime("%Y%m%d-%H%M%S")
        (out / f"results-{stamp}.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print(json.dumps(report, indent=1, ensure_ascii=False)[:200])


if __name__ == "__main__":
    main()
