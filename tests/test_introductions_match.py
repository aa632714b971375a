"""The pure matching behind the welcome reply: who a newcomer should meet."""

from __future__ import annotations

from collections import Counter

from commsite.content.introductions_match import (
    WORD_LIMIT,
    Candidate,
    Match,
    fold_word,
    interest_words,
    propose,
)

ADA = Candidate("ada", ("electronics", "soldering", "radios", "teaching"))
DEV = Candidate("dev", ("radios", "lamps", "electronics", "computers"))
LEILA = Candidate("leila", ("electronics", "coffee machines", "soldering"))
BEA = Candidate("bea", ("bicycles", "sewing", "community organising"))
TOM = Candidate("tomasz", ("Bike Repair", "woodworking", "welding"))
MEMBERS = (ADA, DEV, LEILA, BEA, TOM)


def ids(matches: tuple[Match, ...]) -> list[str]:
    return [m.id for m in matches]


def test_words_are_folded_case_accents_and_plurals() -> None:
    assert fold_word("Bicycles") == "bicycle"
    assert fold_word("batteries") == "battery"
    assert fold_word("boxes") == "box"
    assert fold_word("glass") == "glass"
    assert fold_word("Céramiques") == "ceramique"
    assert interest_words("Bike  Repairs") == ("bike", "repair")
    assert interest_words("tool-library") == ("tool", "library")


def test_more_shared_interests_come_first() -> None:
    found = propose(
        newcomer="https://social.example/users/nia",
        hashtags=["introduction", "Soldering"],
        text="Hi! I repair old radios and love teaching electronics at the library.",
        members=MEMBERS,
    )
    # Ada shares four interests, Leila two, Dev two (radios, electronics).
    assert found[0] == Match("ada", ("electronics", "soldering", "radios", "teaching"))
    assert set(ids(found[1:])) == {"dev", "leila"}
    assert dict((m.id, m.shared) for m in found)["leila"] == ("electronics", "soldering")


def test_several_word_interests_as_phrase_or_joined_hashtag() -> None:
    by_phrase = propose(
        newcomer="n", hashtags=[], text="I'm into bike repairs and sewing.", members=MEMBERS
    )
    assert dict((m.id, m.shared) for m in by_phrase) == {
        "tomasz": ("Bike Repair",),
        "bea": ("sewing",),
    }
    by_tag = propose(newcomer="n", hashtags=["#BikeRepair"], text="", members=MEMBERS)
    assert by_tag == (Match("tomasz", ("Bike Repair",)),)
    # The words apart are not the interest.
    apart = propose(newcomer="n", hashtags=[], text="My bike needs a repair", members=MEMBERS)
    assert apart == ()


def test_accents_and_case_in_interests_and_text() -> None:
    potter = Candidate("hannah", ("Céramique", "visible mending"))
    found = propose(
        newcomer="n", hashtags=["CERAMIQUES"], text="Visible Mending!", members=[potter]
    )
    assert found == (Match("hannah", ("Céramique", "visible mending")),)


def test_the_newcomer_is_never_proposed_to_themselves() -> None:
    found = propose(
        newcomer="https://eastfield.example/users/ada",
        hashtags=["electronics"],
        text="",
        members=MEMBERS,
        exclude={"ada"},
    )
    assert "ada" not in ids(found)
    assert set(ids(found)) == {"dev", "leila"}


def test_no_match_proposes_nobody() -> None:
    assert propose(newcomer="n", hashtags=["introduction"], text="Hello!", members=MEMBERS) == ()
    # The introduction hashtags themselves match no interest.
    intro_fan = Candidate("x", ("introductions", "new here"))
    assert (
        propose(newcomer="n", hashtags=["introduction", "NewHere"], text="", members=[intro_fan])
        == ()
    )


def test_at_most_limit_members() -> None:
    found = propose(newcomer="n", hashtags=["electronics"], text="", members=MEMBERS, limit=2)
    assert len(found) == 2
    assert propose(newcomer="n", hashtags=["electronics"], text="", members=MEMBERS, limit=0) == ()


def test_ties_go_to_who_was_proposed_less() -> None:
    counts = {"ada": 5, "dev": 1, "leila": 0}
    found = propose(
        newcomer="n",
        hashtags=["electronics"],
        text="",
        members=MEMBERS,
        proposed_before=counts,
    )
    assert ids(found) == ["leila", "dev", "ada"]
    # ... but more shared interests still win over fewer proposals.
    found = propose(
        newcomer="n",
        hashtags=["electronics", "soldering", "radios"],
        text="",
        members=MEMBERS,
        proposed_before=counts,
        limit=1,
    )
    assert ids(found) == ["ada"]


def test_equal_matches_are_spread_over_a_stream_of_newcomers() -> None:
    """Fed its own proposals back as counts, equally matching members take turns."""
    electronics = [Candidate(f"m{i}", ("electronics",)) for i in range(6)]
    counts: Counter[str] = Counter()
    for n in range(12):
        found = propose(
            newcomer=f"https://social.example/users/new{n}",
            hashtags=["electronics"],
            text="",
            members=electronics,
            proposed_before=counts,
        )
        assert len(found) == 3
        counts.update(ids(found))
    assert set(counts.values()) == {6}  # 36 proposals over 6 members: six each


def test_ties_without_counts_differ_by_newcomer_and_are_deterministic() -> None:
    electronics = [Candidate(f"m{i}", ("electronics",)) for i in range(8)]

    def first(newcomer: str) -> str:
        return propose(newcomer=newcomer, hashtags=["electronics"], text="", members=electronics)[
            0
        ].id

    assert first("https://a.example/users/x") == first("https://a.example/users/x")
    assert len({first(f"https://a.example/users/u{n}") for n in range(20)}) > 1


def test_a_member_listed_twice_counts_once() -> None:
    found = propose(newcomer="n", hashtags=["sewing"], text="", members=[BEA, BEA])
    assert found == (Match("bea", ("sewing",)),)


def test_a_huge_introduction_is_read_only_so_far() -> None:
    """A hostile megabyte of text costs no more than WORD_LIMIT words of phrases."""
    filler = "blah " * (WORD_LIMIT + 10)
    found = propose(newcomer="n", hashtags=[], text="sewing " + filler + "welding", members=MEMBERS)
    assert found == (Match("bea", ("sewing",)),)
