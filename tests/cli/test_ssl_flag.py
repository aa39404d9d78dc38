"""``-s/--ssl``: the rule for hosts written with ``http://``, and one clear line when TLS cannot work."""

import pytest

from tests.cli.conftest import assert_one_error_line
from wcs.cli.wcscmd import network_message
from wcs.commons.errors import NetworkError


def _dumped(run):
    assert run.status == 0, run.err
    return dict(line.split(" = ", 1) for line in run.out.splitlines() if " = " in line)


def test_ssl_flag_makes_http_hosts_https(wcscmd, cfgfile):
    dumped = _dumped(wcscmd("-c", cfgfile, "-s", "--dump-config"))
    assert dumped["ishttps"] == "True"
    assert dumped["put_url"].startswith("https://127.0.0.1:") and dumped["mgr_url"].startswith("https://127.0.0.1:")
    dumped = _dumped(wcscmd("-c", cfgfile, "--ssl", "--mgr-url", "http://Other.example:81", "--dump-config"))
    assert dumped["mgr_url"] == "https://Other.example:81"


def test_ishttps_in_the_file_keeps_an_explicit_http_scheme(wcscmd, cfgfile):
    # The official rule for the file and the SDK: a host's own scheme wins over ishttps.
    with open(cfgfile, "a", encoding="utf-8") as fp:
        fp.write("ishttps = True\n")
    dumped = _dumped(wcscmd("-c", cfgfile, "--dump-config"))
    assert dumped["put_url"].startswith("http://127.0.0.1:")


def test_ssl_flag_against_a_plain_http_server_is_one_clear_line(wcscmd, cfgfile, bucket, emulator):
    run = wcscmd("-c", cfgfile, "-s", "stat", "wcs://%s/k" % bucket)
    line = assert_one_error_line(run, 6)
    port = emulator.url.rsplit(":", 1)[1]
    assert line == ("wcscmd: error: TLS handshake with 127.0.0.1:%s failed: the server does not speak https "
                    "(WRONG_VERSION_NUMBER); use an http:// host without -s/--ssl and ishttps" % port)
    assert run.json["code"] == -1 and "SSLError" in run.json["body"]["message"]  # the details stay in the JSON


@pytest.mark.parametrize("kind, host, port, reason, expected", [
    ("tls untrusted", "h.example", 443, "certificate verify failed: self-signed certificate",
     "TLS certificate of h.example:443 is not trusted (certificate verify failed: self-signed certificate): "
     "trust it with REQUESTS_CA_BUNDLE, or set isverify = False to skip the check"),
    ("tls", "h", 8443, "tlsv1 alert internal error (TLSV1_ALERT_INTERNAL_ERROR)",
     "TLS error with h:8443: tlsv1 alert internal error (TLSV1_ALERT_INTERNAL_ERROR)"),
])
def test_tls_failures_are_told_in_words(kind, host, port, reason, expected):
    error = NetworkError("SSLError: HTTPSConnectionPool(host=...): Max retries exceeded ...", kind=kind, host=host,
                         port=port, reason=reason, retryable=False)
    assert network_message(error) == expected
