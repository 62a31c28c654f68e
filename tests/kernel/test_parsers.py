"""Magic argument parsing into typed models."""

from __future__ import annotations

import pytest

from kernel_magics.errors import ValidationError
from kernel_magics.kernel import parsers


def test_track_defaults():
    assert parsers.parse_track("") == parsers.TrackCell()


def test_track_all_flags():
    args = parsers.parse_track(
        "--experiment e --name 'my run' --param x,y --param z --metric acc,loss "
        "--artifact model --tag team=cv --tag note='a=b c' --no-figures --autolog --no-live --pickle"  # noqa: E501
    )
    assert args == parsers.TrackCell(
        experiment="e", name="my run", params=["x", "y", "z"], metrics=["acc", "loss"],
        artifacts=["model"], tags={"team": "cv", "note": "a=b c"}, figures=False,
        autolog=True, live=False, pickle=True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--param 1x", "--param '1x' is not a Python variable name"),
        ("--tag team", "--tag 'team' must look like key=value"),
        ("--bogus", "unrecognized arguments: --bogus"),
        ("--experiment", "expected one argument"),
        ("--name 'unbalanced", "Balance the quotes"),
        ("--exp e", "unrecognized arguments"),  # no abbreviations
    ],
)
def test_track_errors_name_the_problem(line, message):
    with pytest.raises(ValidationError, match=message):
        parsers.parse_track(line)


def test_runs_show_compare_log():
    assert parsers.parse_runs("-e x -f 'status = \"failed\"' -l 5 --df") == parsers.ListRuns(
        experiment="x", filter='status = "failed"', limit=5, df=True
    )
    with pytest.raises(ValidationError, match="'ten' is not a whole number"):
        parsers.parse_runs("--limit ten")
    assert parsers.parse_show("abcd").run == "abcd"
    with pytest.raises(ValidationError, match="the following arguments are required: run"):
        parsers.parse_show("")
    assert parsers.parse_compare("a b c").runs == ["a", "b", "c"]
    log = parsers.parse_log("--param a=1 b=x=y")
    assert log.values == {"a": "1", "b": "x=y"} and log.as_param and not log.as_tag
    with pytest.raises(ValidationError, match="not allowed with argument"):
        parsers.parse_log("--param --tag a=1")
