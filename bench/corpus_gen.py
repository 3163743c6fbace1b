"""Synthetic corpora for the lookup benchmark: English-like text with a Zipf vocabulary.

Deterministic for a given seed. The text mixes real function and human-rights words at the
head of a Zipf–Mandelbrot distribution with pronounceable pseudo-words in the tail, plus a
Heaps-like stream of one-off proper nouns (every real corpus has a long hapax tail). Speakers
(thousands, a quarter of them with Russian/Kazakh names romanised in varying ways), their
organisations (hundreds, with acronym aliases) and cases (person names with Latin and
Cyrillic aliases) go into a :class:`bot.catalog.Catalog`, so the store syncs the aliases.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from anyascii import anyascii

from bot.catalog import Case, Catalog, Organisation
from bot.corpus import Quote


def _words(text: str) -> list[str]:
    return text.split()


STOP_WORDS = _words(
    "the of and to a in that is for it as was with be by on not he this are or his from at "
    "which but have an had they you were their one all we can her has there been if more when "
    "will would who so no she other its may these about them any than what also into only some "
    "could should must our such after over those where being against under while"
)

CONTENT_WORDS = _words(
    "human rights torture trial fair court government authorities risk detention prison "
    "extradition asylum police law international freedom speech assembly opposition critics "
    "political deportation expulsion abuse violation justice independent media journalist "
    "lawyer family daughter wife return country regime evidence charges sentence release arrest "
    "investigation inquiry report council minister official security protest activist "
    "persecution refugee threat safety guarantee obligation convention treaty appeal judge "
    "hearing verdict prisoner conditions treatment interrogation confession coerced forced "
    "disappearance custody military civil society monitor election democracy corruption "
    "censorship internet blocked arbitrary detained released condemn urge immediately "
    "unconditionally serious irregularities procedure withdrawn order private jet notorious "
    "trumped flagrantly unfair violations called task documented absolute stop happening "
    "exploiting legal mechanisms criminal dedicated defending former soviet bloc energy rich "
    "influential global decline respect association figure outlets shut allegations concerns "
    "granted grounds deemed persecuted relentless pursuit extensive involvement operation "
    "admitted deported dangerously elected member advice expert terrorism director programme "
    "europe central asia spokesperson researcher counsel committee tribunal ombudsman embassy"
)

ONSETS = _words(
    "b c d f g h j k l m n p r s t v w z br cr dr fr gr pr tr st sp sk ch sh th pl cl bl gl"
)
VOWELS = _words("a e i o u a e i o ea ou ai io")
CODAS = ["", "", "", "", "n", "r", "s", "t", "l", "m", "nd", "nt", "st", "rt", "ck", "ng"]
SUFFIXES = ["", "", "", "", "", "", "", "ion", "ment", "ity", "al", "ous", "ing", "ed", "er", "s"]

FIRST_NAMES = _words(
    "Julia John Hugh Maria Anna Peter Paul Sarah David Laura Thomas Elena Marco Sofia Lucas "
    "Emma Noah Olivia Liam Ava James Isabel Daniel Chloe Martin Claire Simon Helen Robert Alice "
    "Michael Ines Jonas Greta Pablo Lucia Henri Margot Stefan Eva Tobias Nadia Omar Leila Karim "
    "Amara Kofi Zanele Tariq Yasmin Ravi Priya Kenji Mei Hana Jorge Camila Diego Valeria Sven "
    "Ingrid Lars Astrid Niamh Sean Fiona Ewan Gwen Rhys Teodor Milena Bogdan Zofia Andrei Irina"
)

CYR_FIRST = _words(
    "Александр Алма Мухтар Юлия Ксения Айгуль Нурлан Ерлан Жанна Дмитрий Евгений Татьяна "
    "Ольга Сергей Асель Бахыт Айдос Мадина Руслан Светлана Максим Наталья Кирилл Анастасия"
)
CYR_SYLLABLES = _words(
    "ша ла ба ке ри мо ку хо зя ню ксе да ра ту на бе жа ла ма са ка та ва ге ди ле ми не пе "
    "ро со тю фа ха це чи ше ям юр ер ай ул ах ох ых"
)
CYR_SUFFIXES = _words("ов ев ова ева ин ина аев аева енко ский бек ханов")
SURNAME_SUFFIXES = ["son", "sen", "man", "er", "ez", "ini", "ley", "ton", "berg", "field", "ard"]

ORG_FIRST = _words(
    "Nordic Baltic Central Eastern Global Civic Open Free Liberty Justice Truth Peace Atlas "
    "Harbor Meridian Beacon Horizon Compass Summit Northern Southern Coastal Steppe Caspian"
)
ORG_SECOND = _words(
    "Rights Justice Freedom Dialogue Voices Watch Defenders Advocacy Liberties Monitor Media "
    "Press Law Truth Memory Dignity Solidarity"
)
ORG_KINDS = ["Watch", "Foundation", "Centre", "Network", "Committee", "Initiative", "Union"]
REGIONS = ["Europe and Central Asia", "Middle East", "Africa", "Americas", "Asia Pacific"]
ROLES = [
    "Director of the {region} Programme at {org}",
    "{region} researcher at {org}",
    "Spokesperson for {org}",
    "Senior legal counsel, {org}",
    "Head of advocacy at {org}",
]


def _variant_romanisation(cyrillic: str, rng: random.Random) -> str:
    """A Latin spelling of a Cyrillic name, with the spelling variants seen in the wild."""
    latin = anyascii(cyrillic).replace("'", "")
    for old, new, p in (
        ("aeva", "ayeva", 0.5),
        ("aev", "ayev", 0.5),
        ("ya", "ia", 0.4),
        ("yu", "iu", 0.4),
        ("kh", "h", 0.3),
        ("ks", "x", 0.4),
        ("Kh", "H", 0.3),
        ("Ks", "X", 0.3),
    ):
        if old in latin and rng.random() < p:
            latin = latin.replace(old, new)
    return latin


@dataclass(frozen=True)
class Person:
    name: str  # as stored (Latin)
    cyrillic: str | None = None  # the original Cyrillic spelling, if any

    @property
    def surname(self) -> str:
        return self.name.split()[-1]

    @property
    def cyrillic_surname(self) -> str | None:
        return self.cyrillic.split()[-1] if self.cyrillic else None


@dataclass(frozen=True)
class SpeakerSpec:
    person: Person
    role: str
    organisation: str | None


@dataclass(frozen=True)
class CaseSpec:
    case: Case
    person: Person


@dataclass
class Corpus:
    """Everything generated except the quote texts, which :meth:`quotes` streams."""

    seed: int
    vocabulary: list[str]
    cum_weights: list[float]
    speakers: list[SpeakerSpec]
    speaker_weights: list[float]
    organisations: list[Organisation]
    cases: list[CaseSpec]
    catalog: Catalog
    rare_counter: Iterator[int] = field(default_factory=itertools.count)

    def quotes(self, n: int, chunk: int = 20_000) -> Iterator[list[Quote]]:
        rng = random.Random(self.seed * 7919 + n)
        speaker_cw = list(itertools.accumulate(self.speaker_weights))
        batch: list[Quote] = []
        for position in range(1, n + 1):
            spec = rng.choices(self.speakers, cum_weights=speaker_cw)[0]
            length = rng.randint(12, 60)
            words = rng.choices(self.vocabulary, cum_weights=self.cum_weights, k=length)
            for i in range(len(words)):
                if rng.random() < 0.004:
                    words[i] = _rare_word(next(self.rare_counter))
            cases: tuple[str, ...] = ()
            if rng.random() < 0.05:
                case = rng.choice(self.cases)
                cases = (case.case.name,)
                mention = case.person.name if rng.random() < 0.4 else case.person.surname
                words.insert(rng.randrange(len(words) + 1), mention)
            batch.append(
                Quote(
                    text=_sentence(words, rng),
                    speaker=spec.person.name,
                    role=spec.role,
                    organisation=spec.organisation,
                    cases=cases,
                    source=f"synthetic-{position // chunk:03d}",
                    position=position,
                )
            )
            if len(batch) >= chunk:
                yield batch
                batch = []
        if batch:
            yield batch


def _sentence(words: list[str], rng: random.Random) -> str:
    out: list[str] = []
    capital = True
    for i, word in enumerate(words):
        out.append(word[:1].upper() + word[1:] if capital else word)
        capital = False
        if i < len(words) - 1 and rng.random() < 0.06:
            if rng.random() < 0.4:
                out[-1] += "."
                capital = True
            else:
                out[-1] += ","
    return " ".join(out) + "."


_RARE_SYLLABLES = [o + v for o in "bdgklmnprstvz" for v in "aeiou"]  # 65 syllables


def _rare_word(i: int) -> str:
    """The i-th one-off proper noun (a bijection, so never repeated): 'Kadumoxi'."""
    parts = []
    i += 65 * 65  # at least three syllables
    while i:
        i, r = divmod(i, len(_RARE_SYLLABLES))
        parts.append(_RARE_SYLLABLES[r])
    return ("".join(parts) + "x").capitalize()


def _pseudo_word(rng: random.Random) -> str:
    syllables = rng.choices([1, 2, 3], weights=[4, 6, 2])[0]
    word = "".join(
        rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables)
    )
    return word + rng.choice(SUFFIXES)


def _vocabulary(size: int, rng: random.Random) -> list[str]:
    head = list(STOP_WORDS)
    content = list(CONTENT_WORDS)
    seen = set(head) | set(content)
    pseudo: list[str] = []
    while len(pseudo) < size - len(head) - len(content):
        word = _pseudo_word(rng)
        if word not in seen and len(word) >= 3:
            seen.add(word)
            pseudo.append(word)
    # Content words spread over ranks ~100..3000, pseudo-words everywhere after the stop words.
    tail = pseudo[:]
    for word in content:
        tail.insert(rng.randrange(0, min(3000, len(tail))), word)
    return head + tail


def _surname(rng: random.Random, seen: set[str]) -> str:
    while True:
        stem = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(rng.randint(1, 2)))
        name = (stem + rng.choice(CODAS) + rng.choice(SURNAME_SUFFIXES)).capitalize()
        if name not in seen:
            seen.add(name)
            return name


def _cyrillic_person(rng: random.Random, seen: set[str]) -> Person:
    while True:
        stem = "".join(rng.choice(CYR_SYLLABLES) for _ in range(rng.randint(1, 2)))
        surname = (stem + rng.choice(CYR_SUFFIXES)).capitalize()
        latin_surname = _variant_romanisation(surname, rng)
        if latin_surname.lower() not in seen and anyascii(surname).lower() not in seen:
            seen.update((latin_surname.lower(), anyascii(surname).lower()))
            first = rng.choice(CYR_FIRST)
            return Person(
                f"{_variant_romanisation(first, rng)} {latin_surname}", f"{first} {surname}"
            )


def _person(rng: random.Random, seen: set[str], cyrillic_share: float) -> Person:
    if rng.random() < cyrillic_share:
        return _cyrillic_person(rng, seen)
    surname = _surname(rng, seen)
    seen.add(surname.lower())
    return Person(f"{rng.choice(FIRST_NAMES)} {surname}")


def make_corpus(
    *,
    seed: int = 1,
    vocabulary: int = 100_000,
    speakers: int = 5_000,
    organisations: int = 800,
    cases: int = 300,
) -> Corpus:
    rng = random.Random(seed)
    vocab = _vocabulary(vocabulary, rng)
    cum_weights = list(itertools.accumulate(1.0 / (r + 2.7) ** 1.05 for r in range(len(vocab))))

    orgs: list[Organisation] = []
    org_names: set[str] = set()
    while len(orgs) < organisations:
        kind = rng.random()
        if kind < 0.4:
            words = [rng.choice(ORG_FIRST), rng.choice(ORG_SECOND), rng.choice(ORG_KINDS)]
        elif kind < 0.7:
            words = [rng.choice(ORG_KINDS), "for", rng.choice(ORG_SECOND), "and"]
            words.append(_surname(rng, set()))
        else:
            words = [_surname(rng, set()), rng.choice(ORG_SECOND), rng.choice(ORG_KINDS)]
        name = " ".join(words)
        if name in org_names:
            continue
        org_names.add(name)
        acronym = "".join(w[0] for w in words if w[0].isupper())
        orgs.append(Organisation(name, (acronym,) if len(acronym) >= 3 else ()))

    seen: set[str] = set()
    speaker_specs = []
    for _ in range(speakers):
        org = rng.choice(orgs) if rng.random() < 0.9 else None
        role = rng.choice(ROLES).format(
            region=rng.choice(REGIONS), org=org.name if org else "an independent group"
        )
        speaker_specs.append(SpeakerSpec(_person(rng, seen, 0.25), role, org.name if org else None))
    speaker_weights = [1.0 / (i + 10) for i in range(len(speaker_specs))]
    rng.shuffle(speaker_weights)

    case_specs = []
    for _ in range(cases):
        person = _person(rng, seen, 0.5)
        aliases = [person.surname, person.name]
        if person.cyrillic:
            aliases += [person.cyrillic_surname or "", person.cyrillic]
        slug = person.surname.lower()
        case_specs.append(CaseSpec(Case(slug, person.name, tuple(aliases)), person))

    catalog = Catalog(
        organisations=tuple(orgs), cases=tuple(c.case for c in case_specs), speaker_names=()
    )
    return Corpus(
        seed=seed,
        vocabulary=vocab,
        cum_weights=cum_weights,
        speakers=speaker_specs,
        speaker_weights=speaker_weights,
        organisations=orgs,
        cases=case_specs,
        catalog=catalog,
    )
