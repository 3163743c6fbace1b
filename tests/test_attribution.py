"""Where the speaker's name ends in a statements attribution line (bot/attribution.py, issue
11 §5): names with capitals inside are never cut, and a line that could be split more than
one way is refused with its candidates instead of guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.attribution import SplitUnclear, split_attribution
from bot.corpus import Catalog, DocumentError, parse_file, parse_statements

# (name, role) glued the way the statements format writes them.
NAMES_WITH_ROLES = [
    ("Mary McAleese", "Former President of Ireland"),
    ("Ian MacLeod", "Spokesperson for Example Rights"),
    ("Siobhan O'Neill", "Researcher at Amnesty International"),
    ("Leonardo DiCaprio", "Actor and campaigner"),
    ("Matthew LeBlanc", "Director of advocacy"),
    ("Anna van der Berg", "Head of the Europe desk at Human Rights Watch"),
    ("Jean-Marie Fardeau", "France director at Human Rights Watch"),
    ("Anne-Sophie Smith-Jones", "Legal adviser"),
    ("Евгений Жовтис", "Директор Казахстанского бюро по правам человека"),
    ("Алма Шалабаева", "Жена Мухтара Аблязова"),
    ("Mary McAleese", ""),  # no role at all
    ("KADRI KOPPEL", "Spokesperson of the mission"),  # an all-caps name
]


@pytest.mark.parametrize(("name", "role"), NAMES_WITH_ROLES, ids=[n for n, _ in NAMES_WITH_ROLES])
def test_name_with_role_glued_on_is_split_at_the_end_of_the_name(name: str, role: str) -> None:
    assert split_attribution(f"{name}{role} -") == (name, role)
    # The parser gives the same with an empty catalog: no override list needed.
    (quote,) = parse_statements(f"A quote.\n{name}{role} -\n", Catalog(), "doc.txt")
    assert (quote.speaker, quote.role) == (name, role)


AMBIGUOUS = "Anna KowalskaBrownDirector at Example Rights -"


def test_a_line_with_two_plausible_splits_is_refused_with_both() -> None:
    with pytest.raises(SplitUnclear) as caught:
        split_attribution(AMBIGUOUS)
    assert caught.value.candidates == [
        ("Anna Kowalska", "BrownDirector at Example Rights"),
        ("Anna KowalskaBrown", "Director at Example Rights"),
    ]


def test_an_ambiguous_import_names_file_line_candidates_and_the_way_out(tmp_path: Path) -> None:
    path = tmp_path / "press.txt"
    path.write_text(
        "A first quote.\nJulia HallDirector -\n"
        f"A second quote.\n{AMBIGUOUS}\n"
        "A third quote.\nJane DoeDirectorGeneral of Example Rights -\n",
        encoding="utf-8",
    )
    with pytest.raises(DocumentError) as caught:
        parse_file(path, Catalog())
    message = str(caught.value)
    assert caught.value.line == 4
    assert f"{path}, line 4: cannot tell where the speaker's name ends" in message
    assert '"Anna Kowalska" | "BrownDirector at Example Rights"' in message
    assert '"Anna KowalskaBrown" | "Director at Example Rights"' in message
    # Every unclear line is reported at once, not one per run.
    assert f"{path}, line 6:" in message
    assert '"Jane Doe" | "DirectorGeneral of Example Rights"' in message
    assert "--speaker" in message and "[speakers] names" in message


def test_the_curator_decides_with_known_names_or_the_catalog(tmp_path: Path) -> None:
    path = tmp_path / "press.txt"
    path.write_text(f"A quote.\n{AMBIGUOUS}\n", encoding="utf-8")
    (quote,) = parse_file(path, Catalog(), known_speakers=["Anna KowalskaBrown"])
    assert (quote.speaker, quote.role) == ("Anna KowalskaBrown", "Director at Example Rights")
    (quote,) = parse_file(path, Catalog(speaker_names=("Anna Kowalska",)))
    assert (quote.speaker, quote.role) == ("Anna Kowalska", "BrownDirector at Example Rights")


def test_a_line_with_no_name_at_all_is_refused() -> None:
    # A role written in lower case has no capital to split at: the whole line is no name.
    with pytest.raises(SplitUnclear) as caught:
        split_attribution("Julia Hallexpert on counter-terrorism -")
    assert caught.value.candidates == []
    assert "cannot find where the speaker's name ends" in str(caught.value)


def test_a_known_name_is_not_matched_inside_a_longer_one() -> None:
    assert split_attribution("Julia HallidayDirector -", ["Julia Hall"]) == (
        "Julia Halliday",
        "Director",
    )
    assert split_attribution("Julia Hall-SmithDirector -", ["Julia Hall"]) == (
        "Julia Hall-Smith",
        "Director",
    )
