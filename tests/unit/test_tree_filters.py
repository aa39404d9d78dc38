"""Filter rules of tree transfers: glob semantics, first match wins, include-implies-exclude, filter files."""

import pytest

from wcs.commons.errors import InvalidArgument, LocalFileError
from wcs.services.tree.filters import FilterRules, glob_to_regex, make_rule, parse_rule_line, read_filter_file


def included(entries, path):
    return FilterRules.from_args(entries).included(path)


@pytest.mark.parametrize("pattern, path, matches", [
    ("*.tmp", "a.tmp", True),
    ("*.tmp", "x/y/a.tmp", True),          # unanchored: matches the end at a folder boundary
    ("*.tmp", "a.tmpx", False),
    ("*.tmp", "x.tmp/a", False),           # * stays inside one path element
    ("cache/*.bin", "cache/a.bin", True),
    ("cache/*.bin", "x/cache/a.bin", True),
    ("cache/*.bin", "xcache/a.bin", False),
    ("cache/*.bin", "cache/sub/a.bin", False),
    ("cache/**", "cache/sub/a.bin", True),  # ** crosses /
    ("/build/**", "build/x/y", True),       # anchored at the root
    ("/build/**", "src/build/x", False),
    ("a/**/b.txt", "a/b.txt", True),        # the folder run of **/ may be empty
    ("a/**/b.txt", "a/x/y/b.txt", True),
    ("**", "anything/at/all", True),
    (".git/", ".git/config", True),          # trailing / = everything below such a folder
    (".git/", "sub/.git/objects/ab", True),
    (".git/", ".gitignore", False),
    ("?.txt", "a.txt", True),
    ("?.txt", "ab.txt", False),
    ("[ab].txt", "b.txt", True),
    ("[!ab].txt", "c.txt", True),
    ("[!ab].txt", "a.txt", False),
    ("[]x].txt", "].txt", True),
    ("\\*.txt", "*.txt", True),
    ("\\*.txt", "a.txt", False),
    ("é ü/*", "é ü/f", True),               # Unicode and spaces are literal
    ("a+b(c).txt", "a+b(c).txt", True),      # regex characters are literal
])
def test_glob_semantics(pattern, path, matches):
    assert bool(make_rule("-", pattern).regex.fullmatch(path)) is matches


def test_first_match_wins():
    rules = [("+", "keep/*.log"), ("-", "*.log")]
    assert included(rules, "keep/a.log")
    assert not included(rules, "other/a.log")
    # the same rules the other way round: the exclude comes first and wins
    assert not included(list(reversed(rules)), "keep/a.log")


def test_no_match_is_included_unless_an_include_option_was_given():
    assert included([("-", "*.tmp")], "a.txt")
    assert not included([("+", "*.jpg")], "a.txt")
    assert included([("+", "*.jpg")], "x/a.jpg")
    assert included([], "anything")


def test_plus_lines_of_a_filter_file_do_not_exclude_the_rest(tmp_path):
    path = tmp_path / "rules.txt"
    path.write_text("+ keep.tmp\n- *.tmp\n", encoding="utf-8")
    rules = FilterRules.from_args([("file", str(path))])
    assert rules.included("keep.tmp") and rules.included("other.txt") and not rules.included("x.tmp")
    assert rules.describe()[-1] == "(no match: include)"


def test_describe_lists_rules_then_the_default():
    rules = FilterRules.from_args([("-", "*.tmp"), ("+", "**")])
    assert rules.describe() == ["- *.tmp", "+ **", "(no match: exclude)"]


def test_filter_file_rules_take_the_place_of_the_option(tmp_path):
    path = tmp_path / "rules.txt"
    path.write_text("# comment\n\n+ important.tmp\n- *.tmp\r\n", encoding="utf-8")
    rules = FilterRules.from_args([("-", "secret/**"), ("file", str(path)), ("+", "**")])
    assert [str(r) for r in rules.rules] == ["- secret/**", "+ important.tmp", "- *.tmp", "+ **"]
    assert rules.included("important.tmp")
    assert not rules.included("x.tmp")
    assert not rules.included("secret/important.tmp")
    assert rules.included("x.txt")


def test_bad_filter_lines_name_file_and_line(tmp_path):
    path = tmp_path / "rules.txt"
    path.write_text("- ok\nexclude this\n", encoding="utf-8")
    with pytest.raises(InvalidArgument, match=r"rules.txt:2"):
        read_filter_file(str(path))
    with pytest.raises(LocalFileError):
        read_filter_file(str(tmp_path / "missing.txt"))
    assert parse_rule_line("   ") is None
    assert parse_rule_line("# - x") is None
    with pytest.raises(InvalidArgument):
        parse_rule_line("-x")


@pytest.mark.parametrize("pattern", ["", "/", "[abc"])
def test_bad_patterns_are_refused(pattern):
    with pytest.raises(InvalidArgument):
        glob_to_regex(pattern)


def test_bad_sign_is_refused():
    with pytest.raises(InvalidArgument):
        make_rule("*", "x")
