"""Shell completion (issue 22, item 10): ``wcscmd completion bash|zsh``, generated from the command table and
tried in a real bash, as a user's shell would run it."""

import os
import shutil
import subprocess

import pytest

from wcs.cli.completion import options_of, script
from wcs.cli.definition import COMMANDS

needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="no bash here")


def complete(tmp_path, *words):
    """What bash offers for ``wcscmd WORDS`` (the last word being completed), via the generated function."""
    path = tmp_path / "wcscmd.bash"
    path.write_text(script("bash", COMMANDS), encoding="utf-8")
    words = ["wcscmd"] + list(words)
    program = "\n".join([
        "source %s" % path,
        "complete -p wcscmd",
        "COMP_WORDS=(%s)" % " ".join("'%s'" % w for w in words),
        "COMP_CWORD=%d" % (len(words) - 1),
        "_wcscmd",
        'printf "%s\\n" "${COMPREPLY[@]}"',
    ])
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], capture_output=True, text=True,
                          timeout=30, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    spec, *offered = proc.stdout.splitlines()
    assert "-F _wcscmd" in spec and spec.endswith(" wcscmd")
    return [word for word in offered if word]


def test_the_command_prints_the_script(wcscmd):
    run = wcscmd("completion", "bash")
    assert run.status == 0 and run.out == script("bash", COMMANDS) and run.err == ""
    assert wcscmd("completion", "zsh").out.startswith("#compdef wcscmd\n")
    assert wcscmd("completion", "fish").status == 2


@needs_bash
def test_bash_completes_commands(tmp_path):
    assert complete(tmp_path, "li") == ["list", "listall", "listbucket"]
    assert complete(tmp_path, "-c", "cfg", "mul") == ["multiput"]  # an option's value is not the command
    assert sorted(complete(tmp_path, "")) == sorted(c.name for c in COMMANDS)


@needs_bash
def test_bash_completes_only_the_options_a_command_takes(tmp_path):
    offered = complete(tmp_path, "listbucket", "--")
    assert "--profile" in offered and "--json" in offered
    assert "--upload-id" not in offered and "--overwrite" not in offered
    assert complete(tmp_path, "multiput", "wcs://b/k", "f", "--up") == ["--upload-id"]
    assert "--delete" in complete(tmp_path, "sync", "--de") and "--delete" not in complete(tmp_path, "put", "--de")
    assert set(complete(tmp_path, "--")) >= {"--config", "--profile", "--version", "--help"}


@needs_bash
def test_bash_completes_values_and_files(tmp_path):
    (tmp_path / "site.txt").write_text("x")
    assert complete(tmp_path, "records", "c") == ["clean"]
    assert complete(tmp_path, "completion", "") == ["bash", "zsh"]
    assert complete(tmp_path, "--encryption-type", "S") == ["SHA-1", "SM3"]
    assert complete(tmp_path, "put", "wcs://b/k", "si") == ["site.txt"]
    assert complete(tmp_path, "-c", "si") == ["site.txt"]
    assert complete(tmp_path, "--profile", "w") == []  # free text: nothing to offer


def test_the_zsh_script_has_every_command_and_its_options():
    text = script("zsh", COMMANDS)
    assert text.startswith("#compdef wcscmd\n") and text.rstrip().endswith("compdef _wcscmd wcscmd")
    for command in COMMANDS:
        assert "'%s:" % command.name in text
        assert "    %s) opts=(" % command.name in text
    assert "--upload-id" in options_of(next(c for c in COMMANDS if c.name == "multiput"))
    assert "--upload-id" not in options_of(next(c for c in COMMANDS if c.name == "stat"))


@pytest.mark.skipif(shutil.which("zsh") is None, reason="no zsh here")
def test_zsh_runs_the_script(tmp_path):
    path = tmp_path / "_wcscmd"
    path.write_text(script("zsh", COMMANDS), encoding="utf-8")
    proc = subprocess.run(["zsh", "-n", str(path)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    # compadd, _describe and _files exist only inside a completion widget: stand-ins print what they get.
    program = "\n".join([
        "compdef() { : }", "compadd() { print -r -- \"compadd ${@:#--}\" }",
        "_describe() { print -r -- \"describe ${#${(P)2}}\" }", "_files() { print -r -- files }",
        "source %s" % path,
        "words=(wcscmd li); CURRENT=2; PREFIX=li; _wcscmd",
        "words=(wcscmd listbucket --); CURRENT=3; PREFIX=--; _wcscmd",
        "words=(wcscmd -c cfg multiput x --up); CURRENT=6; PREFIX=--up; _wcscmd",
        "words=(wcscmd records c); CURRENT=3; PREFIX=c; _wcscmd",
        "words=(wcscmd --encryption-type S); CURRENT=3; PREFIX=S; _wcscmd",
        "words=(wcscmd put wcs://b/k si); CURRENT=4; PREFIX=si; _wcscmd",
    ])
    proc = subprocess.run(["zsh", "-f", "-c", program], capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, HOME=str(tmp_path)))
    assert proc.returncode == 0, proc.stderr
    described, listbucket, multiput, records, values, files = proc.stdout.splitlines()
    assert described == "describe %d" % len(COMMANDS)
    assert "--profile" in listbucket.split() and "--upload-id" not in listbucket.split()
    assert "--upload-id" in multiput.split()
    assert (records, values, files) == ("compadd list clean", "compadd SHA-1 SM3", "files")
