"""How one model server runs: the options a deployment records and its process is started with.

One dataclass, typed once: :func:`~.deployments.deploy` builds it, the deployment's ``options``
event stores it (so a rollback's replacement server runs the same way), the local backend turns
it into the server process's arguments, and the process parses it back.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict, dataclass, fields
from typing import Any

from ...errors import ValidationError
from .auth import TOKEN_DIGEST_ENV, token_digest

DEFAULT_MAX_BODY = 10 * 1024 * 1024
DEFAULT_SAMPLE_RATE = 0.1


@dataclass(frozen=True)
class ServeOptions:
    """The options of one model server.

    Parameters
    ----------
    allow_pickle : bool
        Serve a version stored with pickle/cloudpickle (runs code from it).
    sample_rate : float
        Fraction of successful requests recorded in the prediction log (errors always are).
    max_body : int
        Largest accepted request body, in bytes (bigger ones get 413).
    lenient : bool
        Do what MLflow's scoring server does: drop unknown columns, convert numbers sent as
        strings (strict validation otherwise).
    expose_example : bool
        Let ``GET /metadata`` show the input example's rows (often real training rows).
    token_digest : str, optional
        Hex SHA-256 of the bearer token every route but ``/health`` requires.
    challenger_id : int, optional
        A challenger (:mod:`.challengers`) the server runs next to its model while that
        challenger is active in the store.
    """

    allow_pickle: bool = False
    sample_rate: float = DEFAULT_SAMPLE_RATE
    max_body: int = DEFAULT_MAX_BODY
    lenient: bool = False
    expose_example: bool = False
    token_digest: str | None = None
    challenger_id: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.sample_rate) <= 1.0:
            raise ValidationError(f"sample_rate must be between 0 and 1, not {self.sample_rate}.")
        if int(self.max_body) < 1024:
            raise ValidationError("max_body must be at least 1024 bytes.")

    @classmethod
    def create(cls, token: str | None = None, **options: Any) -> ServeOptions:
        """Options with the digest of ``token`` (or of ``$MLOPS_SERVE_TOKEN``).

        Raises
        ------
        ValidationError
            For a bad option or a token under 16 characters.
        """
        return cls(**options, token_digest=token_digest(token))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary (what the deployment's ``options`` event holds)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServeOptions:
        """Rebuild options from :meth:`to_dict` output (unknown keys of older rows ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def argv(self) -> list[str]:
        """The server process's command-line arguments (the token digest goes in :meth:`env`)."""
        args = ["--sample-rate", str(self.sample_rate), "--max-body", str(self.max_body)]
        for flag in ("allow_pickle", "lenient", "expose_example"):
            if getattr(self, flag):
                args.append("--" + flag.replace("_", "-"))
        if self.challenger_id is not None:
            args += ["--challenger-id", str(int(self.challenger_id))]
        return args

    def env(self) -> dict[str, str]:
        """Environment for the server process: the token digest, kept off ``ps`` output.

        Always set (empty for no token), so a digest inherited from the caller never applies.
        """
        return {TOKEN_DIGEST_ENV: self.token_digest or ""}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments :meth:`ServeOptions.argv` produces."""
    parser.add_argument("--allow-pickle", action="store_true")
    parser.add_argument("--sample-rate", type=float, default=DEFAULT_SAMPLE_RATE)
    parser.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY)
    parser.add_argument("--lenient", action="store_true")
    parser.add_argument("--expose-example", action="store_true")
    parser.add_argument("--challenger-id", type=int, default=None)


def from_arguments(args: argparse.Namespace) -> ServeOptions:
    """Options from parsed arguments plus the token digest in the environment."""
    return ServeOptions(
        allow_pickle=args.allow_pickle,
        sample_rate=args.sample_rate,
        max_body=args.max_body,
        lenient=args.lenient,
        expose_example=args.expose_example,
        token_digest=os.environ.get(TOKEN_DIGEST_ENV) or None,
        challenger_id=args.challenger_id,
    )
