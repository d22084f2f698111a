"""Reads the deadline and budget-linkage policies from a TOML file (the packaged default)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from domain.budget import LinkagePolicy
from domain.budget_policy import SECTION as LINKAGE_SECTION
from domain.policies import DeadlinePolicy, PolicyError

_PACKAGED = "policy.toml"
P = TypeVar("P")


def load_deadline_policy(path: Path | None = None) -> DeadlinePolicy:
    """Load and validate the deadline policy; errors name the file and the key."""
    return _load(path, DeadlinePolicy.from_mapping)


def load_linkage_policy(path: Path | None = None) -> LinkagePolicy:
    """Load and validate the [budget_linkage] section; errors name the file and the key."""
    return _load(path, _linkage)


def _linkage(data: Mapping[str, Any]) -> LinkagePolicy:
    section = data.get(LINKAGE_SECTION)
    if not isinstance(section, Mapping):
        raise PolicyError(f"{LINKAGE_SECTION}: expected a section (table), got {section!r}")
    return LinkagePolicy.from_mapping(section)


def _load(path: Path | None, parse: Callable[[Mapping[str, Any]], P]) -> P:
    source = str(path) if path is not None else f"adapters/{_PACKAGED} (packaged)"
    try:
        return parse(_read(path))
    except (OSError, tomllib.TOMLDecodeError, PolicyError) as error:
        raise PolicyError(f"policy file {source}: {error}") from error


def _read(path: Path | None) -> dict[str, Any]:
    if path is None:
        return tomllib.loads(resources.files("adapters").joinpath(_PACKAGED).read_text("utf-8"))
    with path.open("rb") as file:
        return tomllib.load(file)
