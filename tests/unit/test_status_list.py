"""W3C Bitstring Status List encoding."""

import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifier.core import status_list as sl
from verifier.core.canonical import b64url


@given(st.sets(st.integers(min_value=0, max_value=sl.MIN_ENTRIES - 1), max_size=50))
def test_round_trip(indexes: set[int]) -> None:
    bits = sl.new_bitstring()
    for i in indexes:
        sl.set_bit(bits, i)
    decoded = sl.decode(sl.encode(bits))
    assert {i for i in range(sl.MIN_ENTRIES) if sl.get_bit(decoded, i)} == indexes


def test_index_zero_is_the_left_most_bit() -> None:
    bits = sl.new_bitstring()
    sl.set_bit(bits, 0)
    assert bits[0] == 0x80
    sl.set_bit(bits, 0, False)
    assert bits[0] == 0


def test_encoded_list_is_multibase_gzip() -> None:
    encoded = sl.encode(sl.new_bitstring())
    assert encoded.startswith("u")
    assert len(sl.decode(encoded)) * 8 == sl.MIN_ENTRIES


@pytest.mark.parametrize(
    "bad",
    ["", "zabc", "u!!!", "u" + b64url(b"not gzip"),
     "u" + b64url(gzip.compress(b"\0" * 10, mtime=0))],  # fixed: the same test id everywhere
)
def test_malformed_lists_are_refused(bad: str) -> None:
    with pytest.raises(sl.StatusListError):
        sl.decode(bad)


def test_index_outside_the_list_is_refused() -> None:
    with pytest.raises(sl.StatusListError):
        sl.get_bit(sl.new_bitstring(), sl.MIN_ENTRIES)
