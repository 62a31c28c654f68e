"""Argument parsing for the ``%mlops`` / ``%%mlops`` magics, into typed models.

Each subcommand has an :mod:`argparse` parser (built by a ``<name>_parser()`` function, which the
help text and the README coverage test read) and a dataclass the magic hands to its handler.
Bad input raises :class:`~kernel_magics.errors.ValidationError` naming the problem and the fix,
before anything runs.
"""

from __future__ import annotations

import argparse
import functools
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ValidationError


class MagicArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser that raises ValidationError instead of printing and exiting."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("add_help", False)
        kwargs.setdefault("allow_abbrev", False)
        kwargs["exit_on_error"] = False  # errors reach error() as exceptions, never exit
        super().__init__(*args, **kwargs)

    def parse_args(self, args=None, namespace=None):  # noqa: D102 - argparse API
        try:
            return super().parse_args(args, namespace)
        except argparse.ArgumentError as exc:  # raised directly when exit_on_error is False
            self.error(str(exc))

    def error(self, message: str):  # noqa: D102 - argparse hook
        name = self.prog.split()[-1]
        raise ValidationError(f"{self.prog}: {message}. See `%mlops help {name}`.")

    def exit(self, status: int = 0, message: str | None = None):  # noqa: D102 - argparse hook
        raise ValidationError(message or f"{self.prog}: invalid arguments.")


def split_line(line: str) -> list[str]:
    """Split a magic's argument line like a shell would.

    Raises
    ------
    ValidationError
        When quotes are unbalanced.
    """
    try:
        return shlex.split(line or "")
    except ValueError as exc:
        raise ValidationError(f"Cannot parse {line!r}: {exc}. Balance the quotes.") from None


def wants_help(tokens: list[str]) -> bool:
    """Tell whether the user asked for a subcommand's help (``-h`` / ``--help``)."""
    return "-h" in tokens or "--help" in tokens


def help_asked(parser_factory: Callable[[], MagicArgumentParser], line: str) -> bool:
    """Print a subcommand's help and return True when its line has ``-h`` or ``--help``."""
    try:
        tokens = split_line(line)
    except ValidationError:  # a subcommand that takes free text (a note) may hold one quote
        tokens = (line or "").split()
    if wants_help(tokens):
        print(parser_factory().format_help())
        return True
    return False


def parsed_with(
    parser_factory: Callable[[], MagicArgumentParser], parse: Callable[[str], Any] | None = None
) -> Callable[[Callable[[Any, Any], Any]], Callable[[Any, str], Any]]:
    """Turn ``fn(magics, args)`` into the ``handler(magics, line)`` the subcommand table calls.

    With ``-h``/``--help`` in the line the subcommand's help is printed and the handler returns
    None; otherwise ``args`` is ``parse(line)`` (a typed dataclass) or, without ``parse``, the
    parser's namespace.

    Parameters
    ----------
    parser_factory : callable
        The subcommand's ``<name>_parser`` function.
    parse : callable, optional
        ``parse_<name>(line)`` returning the subcommand's dataclass.
    """

    def wrap(fn: Callable[[Any, Any], Any]) -> Callable[[Any, str], Any]:
        @functools.wraps(fn)
        def handler(magics: Any, line: str) -> Any:
            if help_asked(parser_factory, line):
                return None
            args = parse(line) if parse else parser_factory().parse_args(split_line(line))
            return fn(magics, args)

        return handler

    return wrap


def _names(values: list[str] | None, flag: str) -> list[str]:
    names: list[str] = []
    for value in values or []:
        for name in (part.strip() for part in value.split(",")):
            if not name:
                continue
            if not name.isidentifier():
                raise ValidationError(
                    f"{flag} {name!r} is not a Python variable name; give names like "
                    f"{flag} acc,loss (comma-separated or repeated)."
                )
            if name not in names:
                names.append(name)
    return names


def parse_pairs(items: list[str] | None, flag: str) -> dict[str, str]:
    """Parse ``key=value`` items into a dict.

    Raises
    ------
    ValidationError
        When an item has no ``=`` or an empty key.
    """
    pairs: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError(
                f"{flag} {item!r} must look like key=value (e.g. {flag} team=cv)."
            )
        pairs[key.strip()] = value
    return pairs


# -- %%mlops track ------------------------------------------------------------------------------


@dataclass
class TrackCell:
    """Parsed ``%%mlops track`` arguments."""

    experiment: str | None = None
    name: str | None = None
    params: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    figures: bool = True
    autolog: bool = False
    live: bool = True
    pickle: bool = False


def track_parser() -> MagicArgumentParser:
    """Return the parser of ``%%mlops track``."""
    p = MagicArgumentParser(prog="%%mlops track", description="Track this cell as a run.")
    p.add_argument("--experiment", "-e", help="Experiment name (default: the notebook's name).")
    p.add_argument("--name", "-n", help="Run name (default: In[<execution count>]).")
    p.add_argument(
        "--param",
        action="append",
        metavar="x,y",
        help="Variables to log as params at cell end (besides literal assignments).",
    )
    p.add_argument(
        "--metric",
        action="append",
        metavar="acc,loss",
        help="Numeric variables to log as metrics at cell end.",
    )
    p.add_argument(
        "--artifact",
        action="append",
        metavar="model",
        help="Variables to store as artifacts (skops, parquet, npy, json).",
    )
    p.add_argument("--tag", action="append", metavar="k=v", help="Tags for the run.")
    p.add_argument(
        "--no-figures",
        action="store_true",
        help="Do not store the matplotlib figures the cell draws.",
    )
    p.add_argument(
        "--autolog",
        action="store_true",
        help="Log scikit-learn fits: params, fit time, training score, model.",
    )
    p.add_argument(
        "--no-live", action="store_true", help="No live metric plot while the cell runs."
    )
    p.add_argument(
        "--pickle",
        action="store_true",
        help="Allow pickle for --artifact values no safe format can store.",
    )
    return p  # fmt: skip


@functools.lru_cache(maxsize=1)
def _cached_track_parser() -> MagicArgumentParser:
    return track_parser()


def parse_track(line: str) -> TrackCell:
    """Parse the arguments of ``%%mlops track`` (on every tracked cell, so the parser is reused)."""
    ns = _cached_track_parser().parse_args(split_line(line))
    return TrackCell(
        experiment=ns.experiment, name=ns.name, params=_names(ns.param, "--param"),
        metrics=_names(ns.metric, "--metric"), artifacts=_names(ns.artifact, "--artifact"),
        tags=parse_pairs(ns.tag, "--tag"), figures=not ns.no_figures, autolog=ns.autolog,
        live=not ns.no_live, pickle=ns.pickle,
    )  # fmt: skip


# -- line subcommands --------------------------------------------------------------------------


@dataclass
class ListRuns:
    """Parsed ``%mlops runs`` arguments."""

    experiment: str | None = None
    filter: str | None = None
    limit: int = 50
    df: bool = False


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def runs_parser() -> MagicArgumentParser:
    """Return the parser of ``%mlops runs``."""
    p = MagicArgumentParser(prog="%mlops runs", description="A sortable, filterable runs table.")
    p.add_argument("--experiment", "-e", help="Only runs of this experiment.")
    p.add_argument("--filter", "-f", help="e.g. \"metrics.acc > 0.9 and params.C = '0.1'\".")
    p.add_argument("--limit", "-l", type=_positive, default=50, help="At most N runs (50).")
    p.add_argument("--df", action="store_true", help="Return a pandas DataFrame instead.")
    return p


def parse_runs(line: str) -> ListRuns:
    """Parse the arguments of ``%mlops runs``."""
    ns = runs_parser().parse_args(split_line(line))
    return ListRuns(experiment=ns.experiment, filter=ns.filter, limit=ns.limit, df=ns.df)


@dataclass
class ShowRun:
    """Parsed ``%mlops show`` arguments."""

    run: str


def show_parser() -> MagicArgumentParser:
    """Return the parser of ``%mlops show``."""
    p = MagicArgumentParser(prog="%mlops show", description="Everything about one run.")
    p.add_argument("run", help="Run id or unique prefix (4+ characters); 'last' for the newest.")
    return p


def parse_show(line: str) -> ShowRun:
    """Parse the arguments of ``%mlops show``."""
    return ShowRun(run=show_parser().parse_args(split_line(line)).run)


@dataclass
class CompareRuns:
    """Parsed ``%mlops compare`` arguments."""

    runs: list[str]


def compare_parser() -> MagicArgumentParser:
    """Return the parser of ``%mlops compare``."""
    p = MagicArgumentParser(prog="%mlops compare", description="Why runs differ.")
    p.add_argument("runs", nargs="+", help="Two or more run ids (the first is the baseline).")
    return p


def parse_compare(line: str) -> CompareRuns:
    """Parse the arguments of ``%mlops compare``."""
    ns = compare_parser().parse_args(split_line(line))
    if len(ns.runs) < 2:
        raise ValidationError("%mlops compare needs at least two runs: %mlops compare RUN RUN.")
    return CompareRuns(runs=list(ns.runs))


@dataclass
class LogValues:
    """Parsed ``%mlops log`` arguments."""

    values: dict[str, str]
    as_param: bool = False
    as_tag: bool = False


def log_parser() -> MagicArgumentParser:
    """Return the parser of ``%mlops log``."""
    p = MagicArgumentParser(
        prog="%mlops log",
        description="Log key=value pairs to the active run: numbers as metrics, text as params.",
    )
    p.add_argument("pairs", nargs="+", metavar="key=value", help="What to log.")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--param", action="store_true", help="Log every pair as a param.")
    kind.add_argument("--tag", action="store_true", help="Log every pair as a tag.")
    return p


def parse_log(line: str) -> LogValues:
    """Parse the arguments of ``%mlops log``."""
    ns = log_parser().parse_args(split_line(line))
    return LogValues(values=parse_pairs(ns.pairs, "%mlops log"), as_param=ns.param, as_tag=ns.tag)


def status_parser() -> MagicArgumentParser:
    """Return the parser of ``%mlops status`` (no arguments)."""
    return MagicArgumentParser(
        prog="%mlops status", description="Where the store is, the active run, the notebook."
    )


def help_parser() -> MagicArgumentParser:
    """Return the parser of ``%mlops help``."""
    p = MagicArgumentParser(prog="%mlops help", description="Help on the magics.")
    p.add_argument("subcommand", nargs="?", help="A subcommand to explain in full.")
    return p
