"""build/encoded.py: a mapping whose values are encoded as they are read, as the
build cache stores parsed files and federation objects."""

from __future__ import annotations

from commsite.build.encoded import Encoded


def _encode(value: str) -> bytes:
    if value == "bad":
        raise ValueError(value)
    return value.encode()


def test_values_are_encoded_when_read_and_refused_ones_left_out() -> None:
    seen: list[str] = []

    def encode(value: str) -> bytes:
        seen.append(value)
        return _encode(value)

    values = {b"a": "one", b"b": "bad", b"c": "three"}
    encoded = Encoded(values, encode, (ValueError,))
    assert seen == []  # nothing is encoded until it is read
    assert list(encoded.items()) == [(b"a", b"one"), (b"c", b"three")]
    assert list(encoded) == [b"a", b"c"]
    assert encoded[b"c"] == b"three"
    assert b"b" not in encoded and b"x" not in encoded
    assert len(encoded) == 3 and encoded  # (the cache only asks whether there is any)


def test_an_error_it_is_not_told_to_skip_propagates() -> None:
    encoded = Encoded({b"a": "bad"}, _encode)
    try:
        list(encoded.items())
    except ValueError:
        return
    raise AssertionError("the error was swallowed")
