"""Pin token signing with the vectors of the protocol reference (sections 2 and 14), in HMAC-SHA1 and HMAC-SM3."""

import json
import shutil
import subprocess

import pytest

from wcs.commons import auth as auth_module
from wcs.commons.auth import Auth, callback_signature, encode_sign, encryption_type_of, manager_signing_string
from wcs.commons.errors import ConfigError, InvalidArgument
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


# HMAC-SM3 (the Java SDK's encryption type SM3), for the same inputs as the SHA-1 vectors above. Computed
# independently of this code with OpenSSL 3.0: `printf '%s' "$STRING" | openssl dgst -sm3 -hmac qwer`,
# the hex digest then URL-safe Base64 (`basenc --base64url`); the gmssl package's SM3 under Python's
# hmac gives the same digests.
SM3 = Auth("1234", "qwer", encryption_type="SM3")


@pytest.mark.parametrize("policy_json,expected", [
    ('{"scope": "test"}',
     "1234:ZjNhN2RhMWM5MzI5YzA1ZDJiMWJmNjQzZmI0MTZhNWZkMDBmOWQyOTNmYWIwM2RlZDI5NGY5YjUwMmYxNzJmZA==:"
     "eyJzY29wZSI6ICJ0ZXN0In0="),
    ('{"scope":"b:a.txt","deadline":1893456000000}',
     "1234:ZDg5M2JjOWVmY2E0YmVkMjk2MWRhZmE3YjdhMjZlZjllOTVjNzk4NmIyMTY2ZTlkZWM2OWZlMGM3MzEwNzU5Ng==:"
     "eyJzY29wZSI6ImI6YS50eHQiLCJkZWFkbGluZSI6MTg5MzQ1NjAwMDAwMH0="),
])
def test_sm3_upload_token_vectors(policy_json, expected):
    assert SM3.uploadtoken_raw(policy_json) == expected


SM3_MANAGER_VECTORS = [
    ("http://apitest.mgr0.v1.wcsapi.com/list?bucket=test", None,
     "1234:NjEwNjE3Zjg4OTFmYmY1M2Q5ZTg0ZGFmYTE0ZTI2NGM0ZmVkNmNmMDRjYjcxMTIyMjU2ZGQ3OWFjNWFjYjU4ZQ=="),
    ("http://mgr.example/stat/YjphLnR4dA==", None,
     "1234:NDM1NzI5OGFhMWExOWM4MzAxMGJiODViY2U0ZGY2NDVmMmQyMWRkNWRjN2FlNDg4ZjcyMGMxYjAyOGQ2ZjE4ZA=="),
    ("http://mgr.example/setdeadline", "bucket=Yg==&key=YS50eHQ=&deadline=30",
     "1234:ZDA3MjM2YTFlZTcyMGUxMzQ4NTViYjU2YTI5OTU2ZGZiNTk4ZDgyNzE4NGI2NDMxODAzMzljZGQyOGFiMTRkOQ=="),
]


@pytest.mark.parametrize("url,body,expected", SM3_MANAGER_VECTORS)
def test_sm3_manager_token_vectors(url, body, expected):
    assert SM3.managertoken(url, body) == expected


def test_sm3_signature_is_base64_of_64_hex_chars():
    sign = encode_sign("qwer", "anything", "SM3")
    hexdigest = urlsafe_base64_decode(sign).decode()
    assert len(sign) == 88 and len(hexdigest) == 64 and int(hexdigest, 16) >= 0


def gmssl_only(monkeypatch):
    """The fallback: an interpreter whose OpenSSL has no SM3, with the gmssl package installed."""
    pytest.importorskip("gmssl.sm3", reason="gmssl (the sm3 extra, in the test extra) is not installed")
    monkeypatch.setattr(auth_module, "openssl_has_sm3", lambda: False)


def test_sm3_fallback_to_gmssl_gives_the_same_vectors(monkeypatch):
    long_key = "k" * 100  # longer than SM3's 64-byte block: HMAC hashes the key first
    with_openssl = encode_sign(long_key, b"body\n" * 50, "SM3")
    gmssl_only(monkeypatch)
    assert auth_module.sm3_digestmod() is auth_module._GmsslSm3
    assert encode_sign(long_key, b"body\n" * 50, "SM3") == with_openssl
    fallback = Auth("1234", "qwer", encryption_type="SM3")
    for url, body, expected in SM3_MANAGER_VECTORS:
        assert fallback.managertoken(url, body) == expected
    assert fallback.uploadtoken_raw('{"scope": "test"}') == SM3.uploadtoken_raw('{"scope": "test"}')


def test_gmssl_adapter_is_sm3_of_the_standard(monkeypatch):
    gmssl_only(monkeypatch)
    # GB/T 32905-2016, example 1: SM3("abc").
    hasher = auth_module._GmsslSm3(b"a")
    copy = hasher.copy()
    hasher.update(b"bc")
    assert hasher.hexdigest() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert copy.digest() != hasher.digest() and len(hasher.digest()) == 32


def test_sm3_unavailable_is_a_config_error_naming_the_fix(monkeypatch):
    monkeypatch.setattr(auth_module, "openssl_has_sm3", lambda: False)
    real_import = auth_module.import_module

    def no_gmssl(name):
        if name.startswith("gmssl"):
            raise ImportError("No module named %r" % name)
        return real_import(name)

    monkeypatch.setattr(auth_module, "import_module", no_gmssl)
    with pytest.raises(ConfigError, match=r"wcs-storage-sdk\[sm3\]") as caught:
        Auth("1234", "qwer", encryption_type="SM3")
    assert caught.value.key == "encryption_type"
    with pytest.raises(ConfigError):
        encode_sign("qwer", "x", "SM3")
    assert Auth("1234", "qwer").uploadtoken_raw('{"scope": "test"}').startswith("1234:OWE0NTdh")  # SHA-1 unaffected


@pytest.mark.parametrize("given,expected", [
    (None, "SHA-1"), ("", "SHA-1"), ("SHA-1", "SHA-1"), ("sha1", "SHA-1"), (" Sha-1 ", "SHA-1"),
    ("SM3", "SM3"), ("sm3", "SM3"),
])
def test_encryption_type_names(given, expected):
    assert encryption_type_of(given) == expected
    assert Auth("a", "b", encryption_type=given).encryption_type == expected


@pytest.mark.parametrize("bad", ["MD5", "SHA-256", "HMAC-SM3", "sm4"])
def test_other_encryption_types_are_refused(bad):
    with pytest.raises(InvalidArgument, match="SHA-1 or SM3"):
        Auth("a", "b", encryption_type=bad)
    with pytest.raises(InvalidArgument):
        encode_sign("qwer", "x", bad)


def test_sm3_signer_announces_itself_and_sha1_sends_nothing_new():
    assert SM3.headers() == {"encryption-type": "SM3"}
    assert AUTH.headers() == {}
    assert "SM3" in repr(SM3) and "qwer" not in repr(SM3) and "encryption" not in repr(AUTH)


def test_official_auth_signature_still_works():
    auth = Auth(access_key="1234", secret_key="qwer")
    assert auth.encryption_type == "SHA-1"
    assert auth.managertoken("http://apitest.mgr0.v1.wcsapi.com/list?bucket=test") == (
        "1234:ZjE3NTA4Mjg1NGMyOTg4ZjNlODRlOWI3M2JhYTA3ZWVjZTM4NzM3ZA==")


def _openssl_hmac_sm3(key: str, data: bytes) -> str:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command")
    proc = subprocess.run([openssl, "dgst", "-sm3", "-hmac", key], input=data, capture_output=True, timeout=30)
    if proc.returncode != 0:
        pytest.skip("this openssl has no SM3: %s" % proc.stderr.decode(errors="replace")[-200:])
    return proc.stdout.decode().rsplit("=", 1)[1].strip()


def test_sm3_matches_the_openssl_command_on_a_binary_body():
    # A body as a management POST may carry: several lines, bytes that are not UTF-8.
    data = b"/fmgr/copy\nfops=resource/YjphLnR4dA==;\x00\xff\xfe\n" + bytes(range(256))
    hexdigest = _openssl_hmac_sm3("qwer", data)
    assert urlsafe_base64_decode(encode_sign("qwer", data, "SM3")).decode() == hexdigest
