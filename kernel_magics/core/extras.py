"""The optional extras of the distribution, and a check that names the missing one.

``pip install jupyter-mlops`` gives the tracking API, the magics and the CLI. The model server,
scikit-learn autolog/skops and the Jupyter server extension come with extras; code that needs
one calls :func:`require` at its entry point, so a missing extra is reported before any work
starts (not as an ``ImportError`` from a subprocess half-way through a deploy).
"""

from __future__ import annotations

import importlib.util

from ..errors import MissingExtraError

#: extra -> the import names it provides (what :func:`require` checks by default).
EXTRAS: dict[str, tuple[str, ...]] = {
    "lab": ("jupyter_server", "jupyterlab", "pydantic"),
    "serve": ("fastapi", "pydantic", "uvicorn", "prometheus_client", "orjson"),
    "sklearn": ("sklearn", "skops"),
    "mlflow": ("mlflow",),
    "report": ("jinja2", "nbconvert"),
    "quality": ("pandera",),
}


def missing(extra: str, *modules: str) -> list[str]:
    """Return the import names of ``extra`` (or just ``modules``) that cannot be imported.

    Parameters
    ----------
    extra : str
        A key of :data:`EXTRAS`.
    *modules : str
        Only check these import names (default: every module of the extra).

    Returns
    -------
    list of str
        The missing names, in the order checked; empty when the extra is usable.
    """
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; known: {', '.join(sorted(EXTRAS))}")
    # find_spec on the top-level name: checking "skops.io" would import skops itself.
    names = modules or EXTRAS[extra]
    return [name for name in names if importlib.util.find_spec(name.split(".")[0]) is None]


def require(extra: str, *modules: str, feature: str | None = None) -> None:
    """Raise :class:`MissingExtraError` unless the modules of ``extra`` can be imported.

    Parameters
    ----------
    extra : str
        A key of :data:`EXTRAS` (``"serve"``, ``"sklearn"``, ``"lab"``).
    *modules : str
        Only check these import names (default: every module of the extra).
    feature : str, optional
        What the user asked for, for the message (``"mlops deploy"``).

    Raises
    ------
    MissingExtraError
        Naming the missing modules and the ``pip install`` command that adds them.
    """
    absent = missing(extra, *modules)
    if absent:
        what = feature or f"this feature ({extra})"
        raise MissingExtraError(
            f"{what} needs the [{extra}] extra, which is not installed "
            f'(missing: {", ".join(absent)}). Fix: pip install "jupyter-mlops[{extra}]"'
        )
