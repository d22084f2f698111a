"""Reads the deadline policy from a TOML file (the packaged default unless told otherwise)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from domain.policies import DeadlinePolicy, PolicyError

_PACKAGED = "policy.toml"


def load_deadline_policy(path: Path | None = None) -> DeadlinePolicy:
    """Load and validate the deadline policy; errors name the file and the key."""
    source = str(path) if path is not None else f"adapters/{_PACKAGED} (packaged)"
    try:
        return DeadlinePolicy.from_mapping(_read(path))
    except (OSError, tomllib.TOMLDecodeError, PolicyError) as error:
        raise PolicyError(f"policy file {source}: {error}") from error


def _read(path: Path | None) -> dict[str, Any]:
    if path is None:
        return tomllib.loads(resources.files("adapters").joinpath(_PACKAGED).read_text("utf-8"))
    with path.open("rb") as file:
        return tomllib.load(file)
