"""Pin token signing with the vectors of the protocol reference (sections 2 and 14)."""

import json

import pytest

from wcs.commons.auth import Auth, callback_signature, encode_sign, manager_signing_string
from wcs.commons.errors import InvalidArgument
from wcs.commons.util import urlsafe_base64_decode

AUTH = Auth("1234", "qwer")


def test_upload_token_vector_from_reference_2_2():
    assert AUTH.uploadtoken_raw('{"scope": "test"}') == (
        "1234:OWE0NTdhNDk4MzJiZGIwODlkMWFiYmFmMGRjNjIzMThlOWEyZGUxMg==:eyJzY29wZSI6ICJ0ZXN0In0=")


def test_upload_token_vector_from_reference_14():
    assert AUTH.uploadtoken_raw('{"scope":"b:a.txt","deadline":1893456000000}') == (
        "1234:YmI2NzRiNmM3MzRmYmJiMzdiNzM4YmU0NjhlMTNhNjg5NmU3NWJiNA==:"
        "eyJzY29wZSI6ImI6YS50eHQiLCJkZWFkbGluZSI6MTg5MzQ1NjAwMDAwMH0=")


@pytest.mark.parametrize("url,body,expected", [
    ("http://apitest.mgr0.v1.wcsapi.com/list?bucket=test", None,
     "1234:ZjE3NTA4Mjg1NGMyOTg4ZjNlODRlOWI3M2JhYTA3ZWVjZTM4NzM3ZA=="),
    ("http://mgr.example/stat/YjphLnR4dA==", None,
     "1234:YjFlNjU1MzhmYTAxZmZhOTI4NmNhYzViYzYwY2FlMDUxMjJkNjk2Zg=="),
    ("http://mgr.example/setdeadline", "bucket=Yg==&key=YS50eHQ=&deadline=30",
     "1234:YjAwY2U3ZjZkOGZmNTQzOWY1MTY2MzJmMjRjMTU4NjZlYThlMjBhNQ=="),
])
def test_manager_token_vectors(url, body, expected):
    assert AUTH.managertoken(url, body) == expected


def test_manager_token_signs_bytes_body_like_text():
    body = "bucket=Yg==&key=YS50eHQ=&deadline=30"
    assert AUTH.managertoken("http://h/setdeadline", body.encode()) == AUTH.managertoken("http://h/setdeadline", body)


@pytest.mark.parametrize("path,query,body,expected", [
    ("/p", "q=1", None, b"/p?q=1\n"),
    ("/p", "q=1", "b", b"/p?q=1\nb"),
    ("/p", "", None, b"/p\n"),
    ("/p", "", "b", b"/p\nb"),
])
def test_manager_signing_string_four_cases(path, query, body, expected):
    assert manager_signing_string(path, query, body) == expected


def test_signature_is_base64_of_40_hex_chars():
    sign = encode_sign("qwer", "anything")
    assert len(sign) == 56 and sign.endswith("=")
    hexdigest = urlsafe_base64_decode(sign).decode()
    assert len(hexdigest) == 40 and int(hexdigest, 16) >= 0


def test_uploadtoken_makes_deadline_absolute_milliseconds():
    token = AUTH.uploadtoken({"scope": "b:k", "deadline": 60}, now_ms=1_000_000)
    policy = json.loads(urlsafe_base64_decode(token.split(":")[2]))
    assert policy == {"scope": "b:k", "deadline": 1_000_000 + 60_000}


def test_uploadtoken_default_lifetime_and_caller_dict_untouched():
    given = {"scope": "b"}
    token = AUTH.uploadtoken(given, now_ms=5)
    assert json.loads(urlsafe_base64_decode(token.split(":")[2]))["deadline"] == 5 + 7200 * 1000
    assert given == {"scope": "b"}


def test_callback_signature_matches_construction():
    assert callback_signature("1234", "qwer", "http://h/cb", "Ym9keQ==") == (
        "1234:" + encode_sign("qwer", "http://h/cb\nYm9keQ=="))


@pytest.mark.parametrize("ak,sk", [("", "s"), ("a", ""), (None, "s")])
def test_auth_requires_both_keys(ak, sk):
    with pytest.raises(InvalidArgument):
        Auth(ak, sk)


def test_auth_repr_hides_secret():
    assert "qwer" not in repr(AUTH)


def test_uploadtoken_clock_is_whole_seconds_like_the_official_sdk(monkeypatch):
    monkeypatch.setattr("wcs.commons.auth.time.time", lambda: 1700000000.5)
    token = AUTH.uploadtoken({"scope": "b"})
    assert json.loads(urlsafe_base64_decode(token.split(":")[2]))["deadline"] == 1700007200000


def test_config_separate_is_not_a_policy_field_as_in_the_official_sdk():
    from wcs.commons.config import Config
    from wcs.commons.putpolicy import PutPolicy

    policy = PutPolicy().dump_policy(Config(separate=1, overwrite=1, returnBody="k=$(key)"))
    # deadline is the official text "7200" until uploadtoken makes it absolute (issue 13: same values).
    assert policy == {"overwrite": 1, "returnBody": "k=$(key)", "deadline": "7200"}
