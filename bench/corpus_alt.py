"""A second synthetic corpus for the lookup benchmark, built unlike :mod:`corpus_gen`.

``bench_search.py --generator alt`` uses it, so that an engine tuned on one corpus is
measured on another. Everything differs on purpose:

* Vocabulary: real English words ranked by how often they occur in the prose of the Python
  standard library installed here (its docstrings and comments), so the head holds
  function words the engine's stop list does not know ("object", "value", "file") and the
  ranks follow a natural, not a formula, distribution; sampled with a steeper Zipf
  (s = 1.15). The tail is compounds of two vocabulary words ("filehandle") and, as one-off
  words, place names with diacritics ("Łódź"-like) and case numbers ("2019/445").
* Quote lengths: log-normal (median ~25 words, some over 100), not uniform.
* Names: particles and hyphens (``Anne-Marie van der Berg``, ``Omar al-Rashid``,
  ``María de la Cruz Ortega``), speakers stored in Cyrillic (``Наталья Сидоренко``), and
  near-neighbour surnames on purpose (Larsen/Larson/Larsson, Dalton/Dalston): the nearest
  name to a typo is often not the only close one. Organisations are often named after a
  person whose surname a speaker also has ("Larsen Foundation"), and have Cyrillic aliases.
* Typos (:func:`typo`): keyboard-neighbour substitutions, doubled and dropped letters,
  dropped vowels and transpositions (corpus_gen: uniform random edits).
* Query mix (:data:`QUERY_MIX`): more names with typos, two typos per word, common-word
  phrases and five-word phrases with one typo.

Deterministic for a given seed and Python version (the stdlib text is the word list).
"""

from __future__ import annotations

import ast
import itertools
import math
import random
import re
import sysconfig
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from anyascii import anyascii

from bot.catalog import Case, Catalog, Organisation
from bot.corpus import Quote

NAME = "alt"
# Queries per type (bench_search's make_queries reads it; corpus_gen's mix is 40 of each).
QUERY_MIX = {
    "word": 20,
    "word_typo1": 25,
    "word_typo2": 25,
    "phrase": 40,
    "phrase_typo": 40,
    "words_typo": 40,
    "words_typo2": 60,
    "common_phrase": 60,
    "phrase5_typo1": 60,
    "who": 30,
    "who_typo": 30,
    "who_surname_typo": 80,
    "who_cyrillic": 20,
    "org": 30,
    "case_typo": 30,
    "case_cyrillic": 20,
}

_WORD = re.compile(r"(?<![\w.])[a-z]{2,16}(?![\w(])")


@lru_cache(maxsize=1)
def stdlib_words() -> list[str]:
    """Words of the standard library's docstrings and comments, commonest first."""
    root = Path(sysconfig.get_paths()["stdlib"])
    counts: Counter[str] = Counter()
    for path in sorted(root.glob("**/*.py")):
        rel = str(path.relative_to(root))
        if rel.startswith(("test", "idlelib", "site-packages", "lib2to3")) or "/test" in rel:
            continue
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node, clean=False)
                if doc:
                    counts.update(_WORD.findall(doc))
        for line in source.splitlines():
            at = line.find("#")
            if at >= 0:
                counts.update(_WORD.findall(line[at:]))
    return [w for w, _ in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))]


# -- names ------------------------------------------------------------------------------------

FIRST = [
    "Glenn",
    "Gene",
    "Marguerite",
    "Bartholomew",
    "Siobhan",
    "Anne-Marie",
    "Jean-Luc",
    "Karl-Heinz",
    "Ana-Maria",
    "Omar",
    "Fatima",
    "Ahmed",
    "Yusuf",
    "Leilani",
    "Bjorn",
    "Saoirse",
    "Mateo",
    "Ximena",
    "Joao",
    "Thiago",
    "Beatriz",
    "Aoife",
    "Declan",
    "Ulrike",
    "Wolfgang",
    "Ingeborg",
    "Matthias",
    "Pieter",
    "Joost",
    "Femke",
    "Hendrik",
    "Zeynep",
    "Emre",
    "Selin",
    "Baraka",
    "Wanjiru",
    "Chidi",
    "Ngozi",
    "Kwame",
    "Abena",
    "Tomasz",
    "Agnieszka",
    "Katarzyna",
    "Luca",
    "Giulia",
    "Chiara",
    "Rafael",
    "Mercedes",
    "Dolores",
    "Gareth",
    "Rhiannon",
    "Callum",
    "Isla",
    "Ruairi",
    "Margarethe",
    "Hamid",
    "Soraya",
    "Dariush",
]
ROOTS = [
    "Lars",
    "Dal",
    "Rob",
    "Hart",
    "Stan",
    "Ber",
    "Brand",
    "Kess",
    "Mol",
    "Fitz",
    "Ash",
    "Whit",
    "Pen",
    "Hol",
    "Rad",
    "Mar",
    "Kov",
    "Nov",
    "Sor",
    "Mend",
    "Cruz",
    "Ort",
    "Alv",
    "Gar",
    "Lop",
    "Vel",
    "Mor",
    "Nak",
    "Tan",
    "Ok",
    "Ade",
    "Mbe",
    "Kam",
    "Hal",
    "Fer",
    "Gil",
    "Quin",
    "Ros",
    "Bel",
    "Cal",
    "Dor",
    "Eng",
    "Lind",
    "Strom",
    "Berg",
    "Holm",
    "Lund",
    "Sand",
    "Vik",
    "Ny",
    "Ek",
    "Kar",
    "Sten",
]
ENDINGS = [
    "sen",
    "son",
    "sson",
    "ton",
    "ston",
    "wick",
    "well",
    "ford",
    "ley",
    "by",
    "ham",
    "more",
    "stad",
    "gaard",
    "ez",
    "es",
    "ini",
    "elli",
]
PARTICLES = ("van", "van der", "de", "de la", "von", "di", "da", "bin", "al-", "ter", "O'")
CYR_FIRST = [
    "Наталья",
    "Игорь",
    "Тимур",
    "Гульнара",
    "Арман",
    "Дина",
    "Вадим",
    "Зарина",
    "Олжас",
    "Людмила",
    "Степан",
]
CYR_ROOTS = [
    "Сидор",
    "Кузнец",
    "Бондар",
    "Мельнич",
    "Шевч",
    "Жумаб",
    "Сарсен",
    "Токт",
    "Исмаил",
    "Калиб",
    "Нурм",
    "Абдр",
]
CYR_MIDDLES = ["", "", "ал", "ен", "ар", "ым", "ик", "ош", "ул", "ев", "ат", "ир", "ом"]
CYR_ENDINGS = ["енко", "ук", "ов", "ова", "ев", "ева", "ин", "ина", "бек", "ұлы"]
ORG_PATTERNS = (
    "{surname} Foundation",
    "{surname} Institute for {topic}",
    "Coalition for {topic}",
    "Centre for {topic} and {topic2}",
    "Observatoire de {topic}",
    "{place} {topic} Committee",
    "Friends of {surname}",
)
TOPICS = (
    "Civil Liberties",
    "Press Freedom",
    "Due Process",
    "Minority Rights",
    "Prison Reform",
    "Refugee Protection",
    "Open Courts",
    "Digital Rights",
    "Fair Elections",
    "Accountability",
)
PLACES = [
    "Tbilisi",
    "Almaty",
    "Bishkek",
    "Vilnius",
    "Chisinau",
    "Yerevan",
    "Baku",
    "Minsk",
    "Kyiv",
    "Tashkent",
    "Astana",
]
CYR_ORG = ("Правозащитный центр", "Фонд", "Комитет защиты", "Бюро по правам человека")


@dataclass(frozen=True)
class Person:
    name: str  # as stored (Latin, or Cyrillic for some speakers)
    surname: str  # the word(s) a user types for the surname
    cyrillic: str | None = None
    cyrillic_surname: str | None = None


@dataclass(frozen=True)
class SpeakerSpec:
    person: Person
    role: str
    organisation: str | None


@dataclass(frozen=True)
class CaseSpec:
    case: Case
    person: Person


def _latin_surname(rng: random.Random, taken: set[str]) -> str:
    while True:
        base = rng.choice(ROOTS) + rng.choice(ENDINGS)
        roll = rng.random()
        if roll < 0.15:
            base = f"{base}-{rng.choice(ROOTS)}{rng.choice(ENDINGS)}"
        if base.lower() not in taken:
            taken.add(base.lower())
            return base


def _person(rng: random.Random, taken: set[str]) -> Person:
    roll = rng.random()
    if roll < 0.40 and len(taken) > 6_000:  # the Cyrillic names are nearly all taken
        roll = 0.5
    if roll < 0.25:  # stored in Cyrillic
        while True:
            surname = rng.choice(CYR_ROOTS) + rng.choice(CYR_MIDDLES) + rng.choice(CYR_ENDINGS)
            if surname.lower() not in taken:
                taken.add(surname.lower())
                break
        name = f"{rng.choice(CYR_FIRST)} {surname}"
        return Person(name, surname, name, surname)
    if roll < 0.40:  # romanised from Cyrillic, the Cyrillic as an alias in cases
        while True:
            cyr = rng.choice(CYR_ROOTS) + rng.choice(CYR_MIDDLES) + rng.choice(CYR_ENDINGS)
            latin = anyascii(cyr).replace("'", "")
            if latin.lower() not in taken:
                taken.add(latin.lower())
                break
        first = rng.choice(CYR_FIRST)
        return Person(f"{anyascii(first)} {latin}", latin, f"{first} {cyr}", cyr)
    surname = _latin_surname(rng, taken)
    if roll < 0.65:
        particle = rng.choice(PARTICLES)
        full = f"{particle}{surname}" if particle.endswith(("-", "'")) else f"{particle} {surname}"
        return Person(f"{rng.choice(FIRST)} {full}", surname)
    return Person(f"{rng.choice(FIRST)} {surname}", surname)


# -- text -------------------------------------------------------------------------------------

_DIACRITIC_SYLLABLES = [
    "Łó",
    "dź",
    "Ús",
    "tí",
    "Gö",
    "te",
    "bo",
    "rg",
    "Ké",
    "ci",
    "ske",
    "mé",
    "Şa",
    "nl",
    "ıu",
    "Ži",
    "li",
    "na",
    "Ñu",
    "ño",
]


def _one_off(i: int) -> str:
    """The i-th one-off word: a place name with diacritics, or a case number."""
    if i % 3 == 0:
        return f"{2000 + i % 25}/{i // 3 + 100}"
    parts = []
    n = i + 400
    while n:
        n, r = divmod(n, len(_DIACRITIC_SYLLABLES))
        parts.append(_DIACRITIC_SYLLABLES[r])
    return "".join(parts).capitalize()


@dataclass
class Corpus:
    seed: int
    vocabulary: list[str]
    cum_weights: list[float]
    speakers: list[SpeakerSpec]
    speaker_cum: list[float]
    organisations: list[Organisation]
    cases: list[CaseSpec]
    catalog: Catalog
    one_offs: Iterator[int] = field(default_factory=itertools.count)
    query_mix: dict[str, int] = field(default_factory=lambda: dict(QUERY_MIX))

    def typo(self, word: str, rng: random.Random, edits: int) -> str:
        return typo(word, rng, edits)

    def quotes(self, n: int, chunk: int = 20_000) -> Iterator[list[Quote]]:
        rng = random.Random(self.seed * 104729 + n)
        batch: list[Quote] = []
        for position in range(1, n + 1):
            spec = rng.choices(self.speakers, cum_weights=self.speaker_cum)[0]
            length = max(4, min(140, int(rng.lognormvariate(math.log(25), 0.55))))
            words = rng.choices(self.vocabulary, cum_weights=self.cum_weights, k=length)
            for i in range(length):
                if rng.random() < 0.003:
                    words[i] = _one_off(next(self.one_offs))
            cases: tuple[str, ...] = ()
            if rng.random() < 0.07:
                case = rng.choice(self.cases)
                cases = (case.case.name,)
                mention = case.person.surname + ("’s" if rng.random() < 0.3 else "")
                words.insert(rng.randrange(len(words) + 1), mention)
            text = " ".join(words)
            text = text[:1].upper() + text[1:] + rng.choice((".", ".", ".", "!", "…"))
            batch.append(
                Quote(
                    text=text,
                    speaker=spec.person.name,
                    role=spec.role,
                    organisation=spec.organisation,
                    cases=cases,
                    source=f"alt-{position // chunk:03d}",
                    position=position,
                )
            )
            if len(batch) >= chunk:
                yield batch
                batch = []
        if batch:
            yield batch


def make_corpus(
    *, seed: int = 1, speakers: int = 5_000, organisations: int = 600, cases: int = 400
) -> Corpus:
    rng = random.Random(seed * 31 + 7)
    words = stdlib_words()
    vocab = list(words)
    seen = set(vocab)
    content = [w for w in words[200:] if len(w) >= 4]
    while len(vocab) < 150_000:  # compounds make the long tail
        compound = rng.choice(content) + rng.choice(content)
        if compound not in seen and len(compound) <= 18:
            seen.add(compound)
            vocab.append(compound)
    cum_weights = list(itertools.accumulate(1.0 / (r + 1.5) ** 1.15 for r in range(len(vocab))))

    taken: set[str] = set()
    people = [_person(rng, taken) for _ in range(speakers)]
    orgs: list[Organisation] = []
    names: set[str] = set()
    while len(orgs) < organisations:
        pattern = rng.choice(ORG_PATTERNS)
        topic, topic2 = rng.sample(TOPICS, 2)
        # Named after a person: often one whose surname a speaker has too.
        surname = rng.choice(people).surname if rng.random() < 0.7 else _latin_surname(rng, taken)
        name = pattern.format(surname=surname, topic=topic, topic2=topic2, place=rng.choice(PLACES))
        if name in names:
            continue
        names.add(name)
        aliases: list[str] = []
        initials = "".join(w[0] for w in re.findall(r"[A-Z]\w+", name))
        if len(initials) >= 3:
            aliases.append(initials)
        if rng.random() < 0.3:
            aliases.append(f"{rng.choice(CYR_ORG)} «{surname}»")
        orgs.append(Organisation(name, tuple(aliases)))
    specs = []
    roles = ("Director, {org}", "{org} researcher", "Spokesperson of {org}", "Lawyer at {org}")
    for person in people:
        org = rng.choice(orgs) if rng.random() < 0.85 else None
        role = rng.choice(roles).format(org=org.name if org else "an independent practice")
        specs.append(SpeakerSpec(person, role, org.name if org else None))
    # A steeper head than corpus_gen's: a few speakers say most.
    weights = [1.0 / (i + 3) ** 1.2 for i in range(len(specs))]
    rng.shuffle(weights)
    case_specs = []
    for _ in range(cases):
        person = _person(rng, taken)
        aliases = [person.surname, person.name]
        if person.cyrillic:
            aliases += [person.cyrillic_surname or "", person.cyrillic]
        slug = re.sub(r"[^a-z0-9]+", "-", anyascii(person.surname).lower()).strip("-")
        case_name = f"{person.name} case" if rng.random() < 0.3 else person.name
        case_specs.append(CaseSpec(Case(slug, case_name, tuple(dict.fromkeys(aliases))), person))
    catalog = Catalog(
        organisations=tuple(orgs), cases=tuple(c.case for c in case_specs), speaker_names=()
    )
    return Corpus(
        seed=seed,
        vocabulary=vocab,
        cum_weights=cum_weights,
        speakers=specs,
        speaker_cum=list(itertools.accumulate(weights)),
        organisations=orgs,
        cases=case_specs,
        catalog=catalog,
    )


# -- typos ------------------------------------------------------------------------------------

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS = {
    c: "".join(
        row2[j]
        for i2, row2 in enumerate(_ROWS)
        for j in range(len(row2))
        if abs(i2 - i) <= 1 and abs(j - col) <= 1 and row2[j] != c
    )
    for i, row in enumerate(_ROWS)
    for col, c in enumerate(row)
}


def typo(word: str, rng: random.Random, edits: int) -> str:
    """``edits`` typing slips: a neighbouring key, a doubled or dropped letter, a dropped
    vowel, two letters swapped."""
    for _ in range(100):
        out = word
        for _ in range(edits):
            letters = [i for i, c in enumerate(out) if c.lower() in _NEIGHBOURS]
            if not letters:
                break
            i = rng.choice(letters)
            op = rng.choice(("key", "key", "double", "drop", "vowel", "swap"))
            c = out[i].lower()
            if op == "key":
                out = out[:i] + rng.choice(_NEIGHBOURS[c]) + out[i + 1 :]
            elif op == "double":
                out = out[: i + 1] + out[i] + out[i + 1 :]
            elif op == "drop" and len(out) > 4:
                out = out[:i] + out[i + 1 :]
            elif op == "vowel":
                vowels = [j for j, ch in enumerate(out) if ch.lower() in "aeiou"]
                if vowels and len(out) > 4:
                    j = rng.choice(vowels)
                    out = out[:j] + out[j + 1 :]
            elif i + 1 < len(out) and out[i] != out[i + 1]:
                out = out[:i] + out[i + 1] + out[i] + out[i + 2 :]
        if out.lower() != word.lower():
            return out
    return word + word[-1]
