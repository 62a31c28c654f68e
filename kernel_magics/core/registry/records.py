"""Model references (``churn``, ``churn/3``, ``churn@production``) and the records handed out."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ...errors import ValidationError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}$")
ALIAS_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")


@dataclass(frozen=True)
class ModelRef:
    """A parsed model reference: a name plus at most one of a version or an alias.

    Attributes
    ----------
    name : str
        The registered model's name.
    version : int or None
        An explicit version (``churn/3``).
    alias : str or None
        An alias (``churn@production``).
    """

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}/{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return self.name


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid model name.

    Raises
    ------
    ValidationError
        When it is empty, too long or holds characters other than letters, digits, ``_.-``.
    """
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValidationError(
            f"Model name {name!r} is not valid: use letters, digits, '_', '.' or '-' "
            "(starting with a letter or digit), at most 255 characters."
        )
    return name


def check_alias(alias: str) -> str:
    """Return ``alias`` if it is a valid alias name (``production``, ``staging``, ``champion``).

    Raises
    ------
    ValidationError
        When it does not start with a letter or holds characters other than letters, digits,
        ``_`` and ``-``, or is purely numeric-looking.
    """
    if not isinstance(alias, str) or not ALIAS_RE.match(alias):
        raise ValidationError(
            f"Alias {alias!r} is not valid: start with a letter, then letters, digits, '_' or '-' "
            "(at most 64 characters), e.g. 'production'."
        )
    return alias


def parse_ref(ref: str | ModelRef) -> ModelRef:
    """Parse ``name``, ``name/VERSION``, ``name@ALIAS`` or ``models:/name/VERSION``.

    Raises
    ------
    ValidationError
        When the reference is malformed (the message shows the accepted forms).
    """
    if isinstance(ref, ModelRef):
        return ref
    if not isinstance(ref, str) or not ref.strip():
        raise ValidationError(
            "A model reference is a string such as 'churn', 'churn/3' or 'churn@production'."
        )
    text = ref.strip().removeprefix("models:/")
    if "@" in text:
        name, _, alias = text.partition("@")
        return ModelRef(check_name(name), alias=check_alias(alias))
    if "/" in text:
        name, _, version = text.partition("/")
        if not version.isdigit() or int(version) < 1:
            raise ValidationError(
                f"In {ref!r}, the version must be a positive integer (e.g. 'churn/3')."
            )
        return ModelRef(check_name(name), version=int(version))
    return ModelRef(check_name(text))


@dataclass
class ModelVersionRecord:
    """One registered version of a model, as stored.

    ``signature`` and ``profile`` are decoded JSON (see :mod:`.signature` and :mod:`.profile`).
    """

    id: int
    model_id: int
    name: str
    version: int
    run_id: str | None
    blob_hash: str
    flavor: str
    format: str
    signature: dict[str, Any] | None
    profile: dict[str, Any] | None
    description: str | None
    created_at: float
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str:
        """``name/version``."""
        return f"{self.name}/{self.version}"

    def to_dict(self, with_profile: bool = False) -> dict[str, Any]:
        """Return a JSON-ready dictionary (the profile only when asked: it can be large)."""
        data = asdict(self)
        if not with_profile:
            data.pop("profile")
        return data


@dataclass
class ModelRecord:
    """A registered model with its aliases and version count."""

    id: int
    name: str
    description: str | None
    created_at: float
    updated_at: float
    latest_version: int | None = None
    version_count: int = 0
    aliases: dict[str, int] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return asdict(self)


@dataclass
class AliasMove:
    """One change of an alias: from which version to which, when, why and by whom."""

    alias: str
    from_version: int | None
    to_version: int | None
    changed_at: float
    reason: str | None
    #: The OS user, or the Jupyter user through the server; None for moves older than the
    #: audit trail (and for a move that changed nothing).
    actor: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return asdict(self)
