"""``wcscmd --configure``: ask for the settings the official tool asks for and save a ``.wcscfg``.

Same questions in the same order as the official tool, current values in brackets (Enter keeps
them). Prompts go to stderr so stdout stays free for results. On a terminal a bad answer is asked
again; when stdin is not a terminal the answers are read line by line (so the step is scriptable:
``printf 'AK\\nSK\\n...y\\n' | wcscmd --configure``) and a bad answer fails at once rather than
shifting every later answer by one line. The file is written atomically with mode 0600. The secret
key is never echoed: its current value shows as ``********``.

After a full pass, Enter at ``Save settings? [Y/n]`` saves. Once saved, the dialog offers to test
the settings with one cheap call (``listbucket``); Enter runs it, and when stdin has no more lines
(a script that answered only the questions) the offer is skipped.

With ``--profile NAME`` the answers go to the ``[NAME]`` section. An existing file is updated in
place (:func:`wcs.commons.wcscfg.update_section`): the keys of the section are rewritten where they
are, new ones added to it, and the other sections and every comment stay as they were. A new file
(or one that cannot be read) is written whole.
"""

import os
from typing import IO, Dict, List, Optional, Tuple

from wcs.cli.files import atomic_output
from wcs.cli.messages import network_message
from wcs.cli.status import ExitStatus, status_for
from wcs.commons import wcscfg
from wcs.commons.config import DEFAULTS, SECRET_KEYS, Config
from wcs.commons.errors import ConfigError, InvalidArgument

# (config key, prompt label, explanation printed before the prompt), as in the official tool.
QUESTIONS: List[Tuple[str, str, Optional[str]]] = [
    ("access_key", "Access Key", "Access key and Secret key are your identifiers for WCS"),
    ("secret_key", "Secret Key", None),
    ("put_url", "PUT_URL", "Upload domain for WCS"),
    ("mgr_url", "MGR_URL", "Manager domain for WCS"),
    ("download_url", "DOWNLOAD_URL", "Download domain of your buckets, with {bucket} (e.g. http://{bucket}.example.com)"),
    ("block_size", "Block_Size", "Multipart Upload Block Size"),
    ("bput_size", "Bput_Size", "Multipart Upload Bput Size"),
    ("connection_retries", "Connection_Retries", "Request Connection Retries"),
    ("connection_timeout", "Connection_Timeout", "Request Connection Timeout"),
    ("mkblk_retries", "Mkblk_Retries", "Multipart Upload Mkblk retries"),
    ("bput_retries", "Bput_Retries", "Multipart Upload Bput retries"),
    ("mkfile_retries", "Mkfile_Retries", "Multipart Upload Mkfile retries"),
    ("tmp_record_folder", "Tmp_Record_Folder", "Multipart Upload record folder"),
    ("concurrency", "Concurrency", "Multipart Upload Concurrency"),
    ("ishttps", "IsHttps", "Use https or not"),
    ("isverify", "isverify", "Use verify or not"),
    ("mode", "mode", "List objects mode"),
    ("keepalive", "keepalive", "request to use keepalive mode"),
    ("deadline", "deadline", "token expiration time"),
    ("traffic_limit", "traffic_limit", "traffic limit"),
]

MASK = "********"


class _Aborted(Exception):
    """The user declined to save, or stdin ended before the questions were answered."""


def _shown(key: str, value: object) -> str:
    if key in SECRET_KEYS:
        return MASK if value else ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _answer_value(cfg: Config, key: str, answer: str) -> object:
    """Official answers for yes/no questions are 'y...'/'n...'; true/false/1/0 work too."""
    if isinstance(getattr(cfg, key), bool):
        word = answer.strip().lower()
        if word[:1] in ("y", "n") and word not in ("no", "yes"):
            return word.startswith("y")
    return answer


class _Dialog:
    def __init__(self, stdin: IO[str], out: IO[str]) -> None:
        self.stdin = stdin
        self.out = out
        isatty = getattr(stdin, "isatty", None)
        self.interactive = bool(isatty and isatty())

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def ask(self, prompt: str, secret: bool = False) -> str:
        if secret and self.interactive:
            import getpass  # no echo of the secret key on a terminal

            try:
                return getpass.getpass(prompt, stream=self.out).strip()  # type: ignore[arg-type]
            except EOFError:
                raise _Aborted() from None
        self.out.write(prompt)
        self.out.flush()
        line = self.stdin.readline()
        if not line:
            raise _Aborted()
        return line.rstrip("\r\n").strip()


def _load_existing(path: str, dialog: _Dialog, profile: Optional[str]) -> Tuple[Config, Optional[str]]:
    """The current settings, and the file's text to update (None: write a whole new file)."""
    if not os.path.exists(path):
        return Config(None, profile=profile), None
    try:
        with open(path, encoding="utf-8-sig") as fp:
            text = fp.read()
        sections = wcscfg.sections(text)
        if profile is not None and not wcscfg.is_default_section(profile) and profile not in sections:
            wcscfg.read_entries(text, path)  # the rest of the file must be sound to be kept
            dialog.say("New profile [%s] in %s" % (profile, path))
            return Config(None, profile=profile), text
        return Config(path, profile=profile), text
    except (ConfigError, OSError, UnicodeDecodeError) as exc:
        # --configure is the cure for a broken file: start from the defaults instead of failing.
        dialog.say("warning: ignoring the existing configuration (%s)" % exc)
        return Config(None, profile=profile), None


def _section_values(cfg: Config, text: str, path: str) -> Dict[str, str]:
    """The keys to write into the section: those the dialog asked for, where the section has them or
    their value is not the default (a new section stays short; the defaults need no line)."""
    present = {key for key, _value, _line in wcscfg.read_entries(text, path, cfg.profile)} \
        if cfg.profile is None or cfg.profile in wcscfg.sections(text) else set()
    values = {}
    for key, _label, _explanation in QUESTIONS:
        value = getattr(cfg, key)
        if key in present or value != DEFAULTS[key]:
            values[key] = str(value)
    return values


def _ask_all(cfg: Config, dialog: _Dialog) -> None:
    dialog.say("Enter new values or accept defaults in brackets with Enter")
    dialog.say("Refer to user manual for detailed description of all options")
    for key, label, explanation in QUESTIONS:
        if explanation:
            dialog.say("\n%s" % explanation)
        while True:
            current = _shown(key, getattr(cfg, key))
            prompt = "%s [%s]: " % (label, current) if current else "%s: " % label
            answer = dialog.ask(prompt, secret=key in SECRET_KEYS)
            if answer == "":
                break
            try:
                setattr(cfg, key, _answer_value(cfg, key, answer))
                break
            except InvalidArgument as exc:
                if not dialog.interactive:
                    raise InvalidArgument("--configure: %s: %s" % (label, exc)) from None
                dialog.say("Invalid value: %s" % exc)


def run_configure(path: str, stdin: IO[str], out: IO[str], profile: Optional[str] = None) -> int:
    """Ask, confirm and save (into the ``[profile]`` section when given); returns an :class:`ExitStatus`.

    Raises:
        InvalidArgument: a scripted (non-terminal) answer is invalid.
        LocalFileError: the file cannot be written.
    """
    path = os.path.abspath(os.path.expanduser(path))
    dialog = _Dialog(stdin, out)
    cfg, text = _load_existing(path, dialog, profile)
    try:
        while True:
            _ask_all(cfg, dialog)
            dialog.say("\nNew settings:")
            for key, _label, _explanation in QUESTIONS:
                dialog.say("  %s: %s" % (key, _shown(key, getattr(cfg, key))))
            if not dialog.ask("\nSave settings? [Y/n] ").lower().startswith("n"):
                break
            if dialog.ask("Retry configuration? [Y/n] ").lower().startswith("n"):
                raise _Aborted()
    except _Aborted:
        dialog.say("\nConfiguration aborted. Changes were NOT saved.")
        return ExitStatus.ERROR
    with atomic_output(path, private=True) as stream:
        if text is None:
            cfg.dump_config(stream)
        else:
            stream.write(wcscfg.update_section(text, cfg.profile or wcscfg.SECTION, _section_values(cfg, text, path)))
    dialog.say("Configuration saved to '%s'%s" % (path, " [%s]" % cfg.profile if cfg.profile else ""))
    try:
        wanted = not dialog.ask("\nTest access with these settings (one listbucket call)? [Y/n] ").lower() \
            .startswith("n")
    except _Aborted:
        return ExitStatus.SUCCESS  # stdin ended: a scripted run that answered only the questions
    return _test_access(cfg, dialog) if wanted else ExitStatus.SUCCESS


def _test_access(cfg: Config, dialog: _Dialog) -> int:
    """List the buckets once; on failure say why and return the exit status of that failure."""
    from wcs.services.client import Client  # the SDK only for the test, not for the questions

    try:
        with Client(cfg) as client:
            result = client.list_buckets().raise_for_status()
    except Exception as exc:  # any failure of the test is reported, the saved file stays
        status = status_for(exc)
        text = network_message(exc) if status == ExitStatus.NETWORK else str(exc) or type(exc).__name__
        dialog.say("Test failed: %s" % " ".join(text.splitlines()))
        dialog.say("The settings were saved; run --configure again to change them.")
        return status
    buckets = result.body.get("buckets") if isinstance(result.body, dict) else None
    dialog.say("Success: the keys work (%d bucket%s)." % (len(buckets or ()), "" if len(buckets or ()) == 1 else "s"))
    return ExitStatus.SUCCESS
