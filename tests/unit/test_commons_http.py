"""Result and body decoding, the retry policy's pure parts."""

import json
import pickle

import pytest
import requests

from wcs.commons.errors import NetworkError, ServiceError
from wcs.commons.http import Backoff, HttpClient, Result, decode_body, network_error, no_response


def test_result_unpacks_like_the_official_tuple():
    code, body, headers = Result(200, {"a": 1}, {"X-Reqid": "r1"})
    assert code == 200 and body == {"a": 1} and headers["x-reqid"] == "r1"


def test_result_properties_and_raise():
    ok = Result(200, {}, {"X-Reqid": "r"})
    assert ok.ok and ok.reqid == "r" and ok.raise_for_status() is ok
    bad = Result(406, {"code": 406, "message": "File Already Exist"}, {"X-Reqid": "r2"})
    assert not bad.ok and bad.message == "File Already Exist"
    with pytest.raises(ServiceError) as info:
        bad.raise_for_status()
    assert info.value.code == 406 and "r2" in str(info.value)


def test_no_response_is_minus_one_and_network_error():
    error = network_error(requests.ConnectionError("refused"))
    res = no_response(error)
    assert res.code == -1 and not res.ok and "refused" in res.message and "ConnectionError" in res.message
    with pytest.raises(NetworkError) as info:
        res.raise_for_status()
    assert info.value is error and isinstance(info.value.__cause__, requests.ConnectionError)


def test_result_is_the_official_tuple_with_declared_extras():
    res = Result(200, {"hash": "h"}, {"X-Reqid": "r1"}, text="t", upload_id="u")
    assert isinstance(res, tuple) and len(res) == 3 and res[0] == 200 and res[1] == {"hash": "h"}
    assert res.headers == {"x-reqid": "r1"} and res.headers["X-Reqid"] == "r1" and "X-REQID" in res.headers
    assert json.loads(json.dumps(res)) == [200, {"hash": "h"}, {"x-reqid": "r1"}]
    assert set(Result.__annotations__) == {"text", "upload_id", "error", "data", "attempts"}
    again = pickle.loads(pickle.dumps(res))
    assert again == res and again.text == "t" and again.upload_id == "u" and again.reqid == "r1"
    assert res.data == res.body and again.data == res.data and res.attempts == 1


def test_form_upload_answer_keeps_the_raw_text_as_body_and_the_decoded_form_as_data():
    res = Result(200, {"hash": "h"}, {"X-Reqid": "r1"}, text="aGFzaD1o").with_raw_body()
    assert tuple(res) == (200, "aGFzaD1o", {"x-reqid": "r1"}) and res.data == {"hash": "h"} and res.ok
    failed = Result(406, {"code": 406, "message": "File Already Exist"}, {}, text='{"code": 406}').with_raw_body()
    assert failed.body == '{"code": 406}' and failed.message == "File Already Exist"
    moved = Result(303, "http://r/?hash=h", {}, text="").with_raw_body()
    assert moved.body == "http://r/?hash=h"


def test_result_keeps_upload_id():
    res = Result(500, {}, {}).with_upload_id("abc")
    assert res.upload_id == "abc" and res.code == 500


@pytest.mark.parametrize("text,expected", [
    ('{"hash": "x"}', {"hash": "x"}),
    ("aGFzaD1GcXIweGgzY3hlaWkycjdlRHp0SUxObXVxVU5O", {"hash": "Fqr0xh3cxeii2r7eDztILNmuqUNN"}),
    ("a2V5PWsmaGFzaD1o", {"key": "k", "hash": "h"}),
    ("", {}),
    ("plain text", "plain text"),
])
def test_decode_body(text, expected):
    assert decode_body(text) == expected


@pytest.mark.parametrize("result, expected", [
    (Result(200, {"hash": "FqA", "key": "k"}, {}), "FqA"),  # a JSON answer (mkfile, a plain form upload)
    (Result(200, {"hash": "FqB"}, {}, text="aGFzaD1GcUI=").with_raw_body(), "FqB"),  # a form's Base64 pairs
    (Result(303, "http://www.abc.com/done?bucket=b&key=k%2F1&hash=FqC", {}), "FqC"),  # returnUrl
    (Result(303, "http://www.abc.com/done?code=406&message=exists", {}), None),  # returnUrl, failed
    (Result(200, {"key": "k"}, {}), None),  # returnBody without $(etag)
    (Result(200, {"hash": ""}, {}), None),
    (Result(200, {"hash": 12}, {}), None),
    (Result(200, "callback text", {}), None),
    (Result(302, "http://r/?hash=FqD", {}), None),  # only a 303 is an upload's answer
    (Result(-1, {"message": "refused"}, {}), None),
])
def test_answered_hash_is_read_from_json_form_pairs_or_a_303(result, expected):
    assert result.answered_hash == expected


def test_transport_errors_become_network_errors_that_say_if_retrying_helps():
    assert network_error(requests.ConnectionError()).retryable
    assert network_error(requests.Timeout()).retryable
    assert not network_error(requests.exceptions.SSLError()).retryable
    assert not network_error(requests.exceptions.InvalidURL()).retryable
    assert not network_error(requests.exceptions.ConnectTimeout()).connected
    assert network_error(requests.exceptions.ReadTimeout()).connected


def test_network_errors_name_the_url_of_the_request():
    error = network_error(requests.exceptions.ReadTimeout(), "https://up.example/file/upload?x=1", timeout=7)
    assert (error.kind, error.url, error.host, error.port) == ("read timeout", "https://up.example/file/upload?x=1",
                                                              "up.example", 443)
    assert error.reason == "nothing received for 7 s" and error.address == "up.example:443"
    bare = network_error(requests.exceptions.InvalidURL("no host"))
    assert (bare.kind, bare.url, bare.host, bare.port, bare.address) == ("other", None, None, None, None)
    assert pickle.loads(pickle.dumps(error)).kind == "read timeout"


def test_backoff_is_exponential_jittered_and_capped():
    backoff = Backoff(base=0.1, cap=1.0)
    for attempt in range(8):
        delay = backoff.delay(attempt)
        bound = min(1.0, 0.1 * 2 ** attempt)
        assert bound / 2 <= delay <= bound
    assert len({round(backoff.delay(3), 6) for _ in range(20)}) > 1


def test_pool_is_sized_for_both_schemes_and_only_grows():
    client = HttpClient(pool_size=16)
    adapter = client.session.adapters["https://"]
    assert client.session.adapters["http://"] is adapter
    assert client.pool_size == 16 and adapter._pool_maxsize == 18
    client.grow_pool(40)
    assert client.pool_size == 40 and adapter._pool_maxsize == 42
    assert adapter.poolmanager.connection_pool_kw["maxsize"] == 42  # the pools made from now on
    client.grow_pool(8)
    assert client.pool_size == 40 and client.session.adapters["http://"] is adapter
    client.close()


def test_backoff_does_not_overflow_with_huge_retry_counts():
    backoff = Backoff(base=0.2, cap=8.0)
    assert 4.0 <= backoff.delay(1100) <= 8.0
