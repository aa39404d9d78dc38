"""Config: the .wcscfg format, typing, validation, independence of instances, dump/read round trip."""

import io

import pytest

from wcs.commons.config import DEFAULTS, Config, base_url
from wcs.commons.errors import ConfigError, InvalidArgument


def write(tmp_path, text, name="wcscfg"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)  # private, as a file with a secret should be: no "readable by others" warning
    return str(path)


def test_defaults_are_the_official_ones():
    cfg = Config()
    assert cfg.block_size == 4194304 and cfg.bput_size == 4194304
    assert cfg.connection_retries == 3 and cfg.connection_timeout == 40
    assert cfg.tmp_record_folder == "/tmp/multipart/" and cfg.concurrency == 4
    assert cfg.ishttps is False and cfg.isverify is True and cfg.keepalive is False
    assert cfg.limit == 1000 and cfg.mode == 3 and cfg.deadline == 7200 and cfg.traffic_limit == 0
    assert set(cfg.option_list()) == set(DEFAULTS) and len(DEFAULTS) == 44
    assert cfg.bwlimit == 0  # ours: no client-side bandwidth limit
    assert cfg.encryption_type == "SHA-1"


def test_reads_typed_values_comments_quotes_and_sections(tmp_path):
    path = write(tmp_path, "# leading comment\n[default]\naccess_key = AK\nsecret_key = \"S K\"\n"
                           "  block_size=8388608\nisverify = no\nishttps = On\n\n"
                           "[other]\naccess_key = ignored\n")
    cfg = Config(path)
    assert cfg.access_key == "AK" and cfg.secret_key == "S K"
    assert cfg.block_size == 8388608 and cfg.isverify is False and cfg.ishttps is True
    assert cfg.path == path


@pytest.mark.parametrize("text,line,key", [
    ("[default]\nlimit = many\n", 2, "limit"),
    ("[default]\nisverify = maybe\n", 2, "isverify"),
    ("[default]\n\nblock_size = 1000\n", 3, "block_size"),
    ("[default]\nconcurrency = -1\n", 2, "concurrency"),
    ("[default]\nlimit = 1001\n", 2, "limit"),
    ("[default]\nlimit = 5000\n", 2, "limit"),
    ("[default]\nmode = 2\n", 2, "mode"),
    ("[default]\nseparate = true\n", 2, "separate"),
    ("[default]\nlimit =\n", 2, "limit"),
])
def test_bad_value_warns_at_load_and_fails_its_use_naming_file_line_and_key(tmp_path, caplog, text, line, key):
    # As the official SDK, the file loads; the problem is one warning, and an error only where the key is used.
    path = write(tmp_path, text)
    cfg = Config(path)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "%s:%d" % (path, line) in warnings[0] and repr(key) in warnings[0]
    with pytest.raises(ConfigError) as info:
        getattr(cfg, key)
    err = info.value
    assert err.path == path and err.line == line and err.key == key
    assert "%s:%d" % (path, line) in str(err)
    with pytest.raises(ConfigError):
        cfg.require("access_key", key)
    assert cfg.require("access_key", "put_url") is cfg and cfg.access_key == ""
    setattr(cfg, key, DEFAULTS[key])  # fixing the value clears the problem
    assert getattr(cfg, key) == DEFAULTS[key] and cfg.problem(key) is None


def test_malformed_line_names_file_and_line(tmp_path):
    path = write(tmp_path, "[default]\nthis line is not a setting\n")
    with pytest.raises(ConfigError) as info:
        Config(path)
    err = info.value
    assert err.path == path and err.line == 2 and err.key is None
    assert "%s:%d" % (path, 2) in str(err)


def test_fractional_connection_timeout_is_accepted(tmp_path):
    cfg = Config(write(tmp_path, "[default]\nconnection_timeout = 5.5\n"))
    assert cfg.connection_timeout == 5.5 and cfg.transfer.connection_timeout == 5.5
    assert Config(write(tmp_path, "[default]\nconnection_timeout = 30\n", "b")).connection_timeout == 30


@pytest.mark.parametrize("text", [
    "[DEFAULT]\naccess_key = AK\nput_url = http://up\n",
    "access_key = AK\nput_url = http://up\n",
    "[wcs]\naccess_key = AK\n[hosts]\nput_url = http://up\n",
    "[Default]\naccess_key = AK\n[other]\nput_url = http://up\n[default]\nput_url = http://up\n",
])
def test_layouts_the_official_sdk_reads(tmp_path, text):
    cfg = Config(write(tmp_path, text))
    assert (cfg.access_key, cfg.put_url) == ("AK", "http://up")


def test_config_without_argument_reads_the_home_file(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Config().access_key == "" and Config().path is None
    write(tmp_path, "[default]\naccess_key = home-ak\n", ".wcscfg")
    assert Config().access_key == "home-ak" and Config().path == str(tmp_path / ".wcscfg")
    assert Config(None).access_key == "" and Config(limit=5).access_key == "home-ak"


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        Config(str(tmp_path / "absent"))


def test_unknown_keys_are_ignored(tmp_path, caplog):
    cfg = Config(write(tmp_path, "[default]\nfuture_option = 1\n"))
    assert cfg == Config()
    assert "future_option" in caplog.text


def test_instances_are_independent():
    a, b = Config(), Config()
    a.overwrite = 1
    assert b.overwrite == 0 and a.overwrite == 1


def test_assignment_is_typed_and_validated():
    cfg = Config()
    cfg.limit = "20"
    assert cfg.limit == 20
    with pytest.raises(InvalidArgument):
        cfg.block_size = 5 * 1024 * 1024
    with pytest.raises(InvalidArgument):
        cfg.no_such_key = 1
    with pytest.raises(InvalidArgument):
        Config(limit=0)


def test_dump_then_read_gives_the_same_config(tmp_path):
    cfg = Config(access_key="ak", secret_key="sk", put_url="http://127.0.0.1:1", returnBody=" spaced ",
                 callbackBody='"quoted"', block_size=8 * 1024 * 1024, ishttps=True, overwrite=1)
    stream = io.StringIO()
    cfg.dump_config(stream)
    assert stream.getvalue().startswith("[default]\n")
    assert Config(write(tmp_path, stream.getvalue())) == cfg


def test_replace_copies(tmp_path):
    cfg = Config(limit=5)
    other = cfg.replace(limit=7, prefix=None)
    assert (cfg.limit, other.limit) == (5, 7)


def test_load_precedence_file_env_overrides(tmp_path):
    path = write(tmp_path, "[default]\naccess_key = from-file\nsecret_key = file-sk\nput_url = file-put\n")
    env = {"WCS_ACCESS_KEY": "from-env", "WCS_PUT_URL": "env-put"}
    cfg = Config.load(path, environ=env, put_url="flag-put")
    assert (cfg.access_key, cfg.secret_key, cfg.put_url) == ("from-env", "file-sk", "flag-put")


def test_load_without_default_file_uses_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Config.load(environ={}) == Config()


def test_repr_hides_secret():
    assert "topsecret" not in repr(Config(secret_key="topsecret"))


@pytest.mark.parametrize("host,https,expected", [
    ("up.example.com", False, "http://up.example.com"),
    ("up.example.com", True, "https://up.example.com"),
    ("http://up.example.com/", True, "http://up.example.com"),
    ("HTTPS://up.example.com", False, "HTTPS://up.example.com"),
])
def test_base_url(host, https, expected):
    assert base_url(host, https) == expected


def test_values_must_be_single_lines_so_dump_reads_back():
    with pytest.raises(InvalidArgument):
        Config(returnBody="line1\nline2")


def test_token_lifetime_must_be_positive():
    with pytest.raises(InvalidArgument):
        Config(deadline=-5)


def test_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.cfg"
    path.write_bytes(b"\xef\xbb\xbf[default]\naccess_key = ak\n")
    assert Config(str(path)).access_key == "ak"


def test_official_configfile_keyword(tmp_path):
    path = write(tmp_path, "[default]\naccess_key = ak\n")
    assert Config(configfile=path).access_key == "ak"


@pytest.mark.parametrize("text,expected", [("SM3", "SM3"), ("sm3", "SM3"), ("SHA-1", "SHA-1"), ("sha1", "SHA-1"),
                                           ('"SM3"', "SM3"), ("", "SHA-1")])
def test_encryption_type_from_the_file(tmp_path, text, expected):
    cfg = Config(write(tmp_path, "[default]\nencryption_type = %s\n" % text))
    assert cfg.encryption_type == expected
    again = io.StringIO()
    cfg.dump_config(again)
    assert "encryption_type = %s\n" % expected in again.getvalue()


def test_bad_encryption_type_in_the_file_fails_its_use(tmp_path, caplog):
    path = write(tmp_path, "[default]\naccess_key = a\nsecret_key = b\nencryption_type = MD5\n")
    cfg = Config(path)
    assert any("encryption_type" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    with pytest.raises(ConfigError, match="SHA-1 or SM3") as info:
        _ = cfg.encryption_type
    assert info.value.line == 4 and info.value.key == "encryption_type"
    from wcs.services.client import Client

    with Client(cfg) as client, pytest.raises(ConfigError):
        _ = client.auth


def test_encryption_type_as_a_keyword_and_attribute():
    assert Config(None, encryption_type="sm3").encryption_type == "SM3"
    cfg = Config(None)
    cfg.encryption_type = "SHA1"
    assert cfg.encryption_type == "SHA-1"
    with pytest.raises(InvalidArgument, match="encryption_type must be SHA-1 or SM3"):
        Config(None, encryption_type="HMAC-SHA256")


def test_client_signs_with_the_configured_encryption_type():
    from wcs.services.client import Client

    with Client(Config(None, access_key="1234", secret_key="qwer", encryption_type="SM3")) as client:
        assert client.auth.encryption_type == "SM3" and client.auth.headers() == {"encryption-type": "SM3"}
    with Client(Config(None, access_key="1234", secret_key="qwer")) as client:
        assert client.auth.encryption_type == "SHA-1" and client.auth.headers() == {}


def test_each_default_is_written_once_in_the_settings():
    import ast
    import dataclasses
    import inspect

    from wcs.commons import auth, settings, wcscfg

    owned = {}
    for cls in (settings.Credentials, settings.Endpoints, settings.TransferConfig, settings.PolicyDefaults,
                settings.JobDefaults):
        for item in dataclasses.fields(cls):
            owned[{"https": "ishttps", "verify": "isverify"}.get(item.name, item.name)] = item.default
    for key, default in owned.items():
        if key in DEFAULTS and key != "download_domains":
            assert DEFAULTS[key] == default, key
    assert not set(wcscfg._OWN_DEFAULTS) & (set(owned) - {"download_domains"})
    assert auth.DEFAULT_TOKEN_LIFETIME_S == settings.PolicyDefaults().deadline == settings.TOKEN_LIFETIME_S
    # No second copy of a settings default as a literal where the config file and the signer are read.
    literals = {default for default in owned.values() if isinstance(default, int) and default > 1}
    literals = (literals | {"/tmp/multipart/"}) - set(wcscfg._OWN_DEFAULTS.values())  # e.g. mode = 3
    for module in (wcscfg, auth):
        found = [node.value for node in ast.walk(ast.parse(inspect.getsource(module)))
                 if isinstance(node, ast.Constant) and not isinstance(node.value, bool) and node.value in literals]
        assert found == [], (module.__name__, found)


@pytest.mark.parametrize("field, bad", [("block_size", 3 * 1024 * 1024), ("bput_size", 0), ("concurrency", -1),
                                        ("connection_timeout", 0), ("download_part_size", 5),
                                        ("mkblk_retries", "3"), ("concurrency", True)])
def test_transfer_settings_are_checked_when_built(field, bad):
    from wcs.commons.settings import TransferConfig

    with pytest.raises(InvalidArgument, match=field):
        TransferConfig(**{field: bad})
    assert TransferConfig(bput_size=8 * 1024 * 1024).chunk_size == 4 * 1024 * 1024  # a chunk is at most a block


PROFILES = ("# top\n[default]\naccess_key = D\n\n# work\n[work]\naccess_key = W\nput_url = http://w\n"
            "[DEFAULT]\nlimit = 9\n")


def test_a_profile_reads_its_own_section_only(tmp_path):
    path = write(tmp_path, PROFILES)
    cfg = Config(path)
    assert (cfg.access_key, cfg.put_url, cfg.limit) == ("D", "", 9)
    assert cfg.source("access_key") == "file %s" % path and cfg.source("put_url") == "default"
    work = Config(path, profile="work")
    assert (work.access_key, work.put_url, work.limit, work.profile) == ("W", "http://w", 1000, "work")
    assert work.source("access_key") == "profile work (%s)" % path
    assert Config(path, profile="default") == cfg and Config(path, profile="default").profile is None
    with pytest.raises(ConfigError) as info:
        Config(path, profile="Work")  # profile names are exact; only default ignores case
    assert "no [Work] section" in str(info.value)


def test_load_takes_the_file_and_profile_from_the_environment(tmp_path):
    path = write(tmp_path, PROFILES)
    cfg = Config.load(environ={"WCS_CONFIG_FILE": path, "WCS_PROFILE": "work", "WCS_PUT_URL": "http://env"})
    assert (cfg.access_key, cfg.put_url) == ("W", "http://env")
    assert cfg.source("put_url") == "environment WCS_PUT_URL"
    assert Config.load(path, environ={"WCS_PROFILE": "work"}, profile="default").access_key == "D"


def test_a_profile_without_any_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError):
        Config(profile="work")  # no ~/.wcscfg in the test's HOME


@pytest.mark.parametrize("text, section, values, expected", [
    # an existing key is rewritten in place; comments, blank lines and other sections stay
    (PROFILES, "work", {"access_key": "W2", "mgr_url": "m"},
     "# top\n[default]\naccess_key = D\n\n# work\n[work]\naccess_key = W2\nput_url = http://w\nmgr_url = m\n"
     "[DEFAULT]\nlimit = 9\n"),
    # [DEFAULT] is [default] too: a new key goes after the last setting of the last default section
    (PROFILES, "default", {"access_key": "D2", "put_url": " spaced "},
     "# top\n[default]\naccess_key = D2\n\n# work\n[work]\naccess_key = W\nput_url = http://w\n[DEFAULT]\n"
     "limit = 9\nput_url = \" spaced \"\n"),
    # a new section at the end
    ("[default]\naccess_key = D\n", "play", {"access_key": "P"},
     "[default]\naccess_key = D\n\n[play]\naccess_key = P\n"),
    # the official bare layout stays bare
    ("access_key = D\n", "default", {"access_key": "E", "limit": "5"}, "access_key = E\nlimit = 5\n"),
    # profiles without a [default]: the bare lines become an explicit [default]
    ("access_key = D\n[work]\naccess_key = W\n", "default", {"limit": "5"},
     "[default]\naccess_key = D\nlimit = 5\n[work]\naccess_key = W\n"),
    ("", "default", {"access_key": "A"}, "access_key = A\n"),
])
def test_update_section_changes_only_what_it_is_given(text, section, values, expected):
    from wcs.commons.wcscfg import update_section

    assert update_section(text, section, values) == expected
