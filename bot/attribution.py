"""Where a speaker's name ends in a statements attribution line (pure).

The statements format glues the name and the role together: ``Julia HallAmnesty
International’s expert …``. The only clue is where a lower-case letter meets a capital
(``l|A``), or a run of capitals meets a capitalised word (``UNHCR|Spokesperson``). Names
have such joins of their own (``McAleese``, ``MacLeod``, ``DiCaprio``, ``LeBlanc``), so a
join is a *candidate* split, never a certain one, and attributing a statement to "Mary Mc"
is the worst thing an import can do. The rules, in order:

1. A known name wins: the catalog's ``[speakers] names`` and organisation names, speakers
   already in the database, and names the curator gives on the command line
   (``--speaker``), longest first, when the line starts with it followed by a capital
   (glued on, as the format writes roles) or nothing.
2. Otherwise every join is a candidate, plus "the whole line is the name, no role". A
   candidate is impossible when its name ends in a name prefix (``Mary Mc``, ``Leonardo
   Di``), starts with a lower-case letter, or has a lower-case word that is not a name
   particle (``van``, ``der``, ``de``, ``bin`` …: ``Anna van der Berg``).
3. The rest are ranked by oddities: a name word glued from two capitalised parts that is
   not a prefixed name (``KowalskaBrown``), a role whose first word is glued
   (``BrownDirector``). The one candidate with the fewest wins; when several tie, or none
   is possible, the line is refused with the candidates (:class:`SplitUnclear`) — a curator
   decides with ``--speaker`` or the catalog, the parser never guesses.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

# Attribution lines end in " -" (the last one may not); the role may end in "." too.
TRAILING_DASH = re.compile(r"\s*-\s*$")

# Written before a capital inside one name: McAleese, MacLeod, DiCaprio, LeBlanc, DeShawn,
# VanDyke, FitzGerald, StJohn. A cut right after one of these cuts a name in two. (Not Du,
# Li: common surnames on their own; such a name is refused rather than guessed.)
NAME_PREFIXES = frozenset(
    [
        "Mc",
        "Mac",
        "Di",
        "De",
        "Da",
        "Le",
        "La",
        "Van",
        "Von",
        "Fitz",
        "St",
        "Ter",
        "Ten",
        "Del",
        "Della",
        "Dos",
        "Das",
        "Des",
    ]
)
# Lower-case words that belong to names: van der Berg, de la Cruz, bin Talal, Ortega y Gasset.
NAME_PARTICLES = frozenset(
    [
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "di",
        "da",
        "du",
        "dos",
        "das",
        "le",
        "la",
        "les",
        "al",
        "el",
        "bin",
        "ibn",
        "bint",
        "ben",
        "ter",
        "ten",
        "zu",
        "zur",
        "y",
        "i",
        "e",
    ]
)


class SplitUnclear(ValueError):
    """No single plausible split: ``candidates`` are the (name, role) pairs that tie (empty
    when none is possible)."""

    def __init__(self, text: str, candidates: list[tuple[str, str]]) -> None:
        self.text = text
        self.candidates = candidates
        super().__init__(describe_unclear(text, candidates))


def describe_unclear(text: str, candidates: list[tuple[str, str]]) -> str:
    """The refusal a curator reads: the line, the candidate splits, and how to decide."""
    shown = text if len(text) <= 90 else text[:90] + "…"
    if candidates:
        options = " or ".join(f'"{name}" | "{role}"' for name, role in candidates)
        what = f'cannot tell where the speaker\'s name ends in "{shown}": it could be {options}'
    else:
        what = f'cannot find where the speaker\'s name ends in "{shown}"'
    return (
        f'{what}. Name the speaker: add --speaker "FULL NAME" to the import command, '
        "or add the name to [speakers] names in data/catalog.toml"
    )


def _is_join(text: str, i: int) -> bool:
    """Whether a new capitalised word starts at ``text[i]`` glued to the previous letters."""
    if i == 0 or not text[i].isupper():
        return False
    before = text[i - 1]
    if before.islower():
        return True
    # UNHCRSpokesperson: a run of capitals, then a capitalised word.
    return (
        before.isupper()
        and i + 1 < len(text)
        and text[i + 1].islower()
        and i >= 2
        and text[i - 2].isupper()
    )


def joins(text: str) -> list[int]:
    """Indexes where a capitalised word is glued to the letters before it."""
    return [i for i in range(1, len(text)) if _is_join(text, i)]


def _parts(word: str) -> list[str]:
    """A word cut at its joins: ``McAleese`` → ``Mc``, ``Aleese``."""
    cuts = [0, *joins(word), len(word)]
    return [word[a:b] for a, b in itertools.pairwise(cuts) if word[a:b]]


def _odd_glue(word: str) -> bool:
    """A word glued from capitalised parts that is not a prefixed name (``KowalskaBrown``)."""
    parts = _parts(word)
    return any(part not in NAME_PREFIXES for part in parts[:-1])


@dataclass(frozen=True)
class Candidate:
    name: str
    role: str
    oddities: int


def _candidate(name: str, role: str) -> Candidate | None:
    name, role = name.strip(), clean_role(role)
    words = name.split()
    if not words or not name[0].isupper():
        return None
    if _parts(words[-1])[-1] in NAME_PREFIXES:
        return None  # "Mary Mc", "Leonardo Di": the cut is inside the name
    if any(w[0].islower() and w not in NAME_PARTICLES for w in words):
        return None  # "Julia Hall expert on …": a role, not a name
    oddities = sum(_odd_glue(w) for w in words)
    first_role_word = role.split()[0] if role else ""
    oddities += _odd_glue(first_role_word)
    return Candidate(name, role, oddities)


def candidates(text: str) -> list[Candidate]:
    """Every possible split of ``text`` (no trailing dash), best (fewest oddities) first."""
    found = [_candidate(text[:i], text[i:]) for i in joins(text)]
    found.append(_candidate(text, ""))
    possible = [c for c in found if c is not None]
    return sorted(possible, key=lambda c: c.oddities)


def clean_role(role: str) -> str:
    return role.strip().rstrip(".").strip()


def split_attribution(line: str, known_names: Iterable[str] = ()) -> tuple[str, str]:
    """``"Julia HallAmnesty International’s expert … -"`` → ``("Julia Hall", "Amnesty …")``.

    ``known_names`` win (see the module docstring); otherwise the single most plausible
    split, or :class:`SplitUnclear` when there is none or several tie.
    """
    text = TRAILING_DASH.sub("", line).strip()
    for name in sorted(set(known_names), key=len, reverse=True):
        if name and text.startswith(name):
            rest = text[len(name) :]
            if not rest or rest[0].isupper():
                return name, clean_role(rest)
    found = candidates(text)
    if found and (len(found) == 1 or found[0].oddities < found[1].oddities):
        return found[0].name, found[0].role
    tied = [(c.name, c.role) for c in found if c.oddities == found[0].oddities]
    raise SplitUnclear(text, tied)
