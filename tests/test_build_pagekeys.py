"""build.pagekeys: digests of page keys, and what a long-lived builder's next plan
may take from the last one."""

from __future__ import annotations

from dataclasses import dataclass

from commsite.build.pagekeys import KeyDigests

CODE = b"code"


@dataclass(frozen=True)
class Frozen:
    text: str


@dataclass
class Thawed:
    text: str


def test_equal_keys_digest_equal_and_a_change_shows() -> None:
    keys = KeyDigests({}, CODE)
    assert keys.digest((Frozen("a"), 1), b"t") == KeyDigests({}, CODE).digest(
        (Frozen("a"), 1), b"t"
    )
    assert keys.digest((Frozen("a"), 1), b"t") != keys.digest((Frozen("b"), 1), b"t")
    assert keys.digest((Frozen("a"), 1), b"t") != keys.digest((Frozen("a"), 1), b"u")


def test_the_next_plan_takes_digests_of_the_same_immutable_objects() -> None:
    shared = (Frozen("a"), (Frozen("b"),))
    first = KeyDigests({}, CODE)
    digest = first.digest((shared,), b"t")
    second = KeyDigests({}, CODE, first)
    assert second.digest((shared,), b"t") == digest
    assert id(shared) in second._known and second._known[id(shared)] is first._known[id(shared)]


def test_a_mutable_object_is_digested_again() -> None:
    """A digest of a mutable object (same id, changed since) is never carried over."""
    value = Thawed("a")
    listed = [Frozen("a")]
    first = KeyDigests({}, CODE)
    before = first.digest((value, listed), b"t")
    value.text = "b"
    listed.append(Frozen("c"))
    second = KeyDigests({}, CODE, first)
    fresh = KeyDigests({}, CODE).digest((value, listed), b"t")
    assert second.digest((value, listed), b"t") == fresh != before


def test_only_what_a_plan_used_is_carried_to_the_next() -> None:
    a, b = (Frozen("a"),), (Frozen("b"),)
    first = KeyDigests({}, CODE)
    first.digest((a, b), b"t")
    second = KeyDigests({}, CODE, first)
    second.digest((a,), b"t")
    third = KeyDigests({}, CODE, second)
    assert id(a) in third._last and id(b) not in third._last
