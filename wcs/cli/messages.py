"""Lines said about a failure, shared by the error boundary (:mod:`wcs.cli.core`) and the access test of
``--configure`` (:mod:`wcs.cli.configure`)."""

from wcs.commons.errors import NetworkError, NetworkKind


def network_message(error: BaseException) -> str:
    """The one line for a failure on the wire: where (``host:port``) and what, from the error's fields.

    The library's full text (``HTTPConnectionPool(...): Max retries exceeded ...``) stays for
    ``--debug`` and the JSON body; a person needs the host and the reason. A TLS failure says what
    it means (a plain-http server, an untrusted certificate) and what to change.
    """
    text = str(error) or type(error).__name__
    if not isinstance(error, NetworkError) or not error.address:
        return text
    where, kind, reason = error.address, error.kind, error.reason
    if kind in (NetworkKind.REFUSED, NetworkKind.UNREACHABLE, NetworkKind.CONNECT_TIMEOUT):
        return "cannot reach %s: %s" % (where, reason)
    if kind == NetworkKind.DNS:
        return "cannot reach %s: Failed to resolve '%s' (%s)" % (where, error.host, reason)
    if kind == NetworkKind.READ_TIMEOUT:
        return "no answer from %s: %s (connection_timeout)" % (where, reason)
    if kind == NetworkKind.RESET:
        return "the connection to %s broke off: %s" % (where, reason)
    if kind == NetworkKind.NOT_TLS:
        return ("TLS handshake with %s failed: the server does not speak https (%s); use an http:// host "
                "without -s/--ssl and ishttps" % (where, reason))
    if kind == NetworkKind.TLS_UNTRUSTED:
        return ("TLS certificate of %s is not trusted (%s): trust it with REQUESTS_CA_BUNDLE, or set "
                "isverify = False to skip the check" % (where, reason))
    if kind == NetworkKind.TLS:
        return "TLS error with %s: %s" % (where, reason)
    return text
