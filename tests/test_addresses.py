"""Email normal forms, ZIP look-ups and hashed client addresses."""

import pytest

from coalition.services.addresses import (
    InvalidEmail,
    check_email,
    hash_client_address,
    lookup_zip,
    normalize_email,
)


@pytest.mark.parametrize(
    "given, expected",
    [
        ("Rosa@Example.org", "rosa@example.org"),
        ("rosa+petition@example.org", "rosa@example.org"),
        ("R.O.S.A@gmail.com", "rosa@gmail.com"),
        ("r.osa+x@googlemail.com", "rosa@gmail.com"),
        ("r.osa@example.org", "r.osa@example.org"),
    ],
)
def test_normalize_email(given, expected):
    assert normalize_email(given) == expected


@pytest.mark.parametrize("bad", ["", "rosa", "rosa@", "@example.org", "ro sa@example.org", "rosa@example"])
def test_check_email_refuses_bad_addresses(bad):
    with pytest.raises(InvalidEmail):
        check_email(bad)


def test_check_email_accepts_real_looking_addresses():
    assert check_email("  rosa@example.org ") == "rosa@example.org"


def test_lookup_zip_gives_city_and_county():
    place = lookup_zip("10027")
    assert (place.city, place.county, place.state) == ("New York", "New York County", "NY")
    assert lookup_zip("00000") is None
    assert lookup_zip("abcde") is None
    assert lookup_zip("123") is None


def test_client_hash_is_keyed_and_hides_the_address():
    one = hash_client_address("203.0.113.9", "key-one")
    assert one and "203.0.113.9" not in one
    assert one == hash_client_address("203.0.113.9", "key-one")
    assert one != hash_client_address("203.0.113.9", "key-two")
    assert hash_client_address(None, "key") is None
