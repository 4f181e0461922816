"""Document templates: the fixed wording of each document, Thai and English, from TOML.

The files live in the repository's top-level `templates/` (`pp1.toml`, `vocational.toml`),
so a registrar's change to a form's wording is a change to a data file, not to code
(docs/templates.md). `TRANSCRIPTS_TEMPLATES` names another folder holding the same files.
An installed wheel carries them under ``{sys.prefix}/share/bangkok-transcripts/templates``.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SOURCE_DIR = Path(__file__).resolve().parents[3] / "templates"
INSTALLED_DIR = Path(sys.prefix) / "share" / "bangkok-transcripts" / "templates"
DEFAULT_DIR = SOURCE_DIR if SOURCE_DIR.is_dir() else INSTALLED_DIR


class TemplateError(ValueError):
    """A template file is missing, unreadable or lacks a label the renderer needs."""


@dataclass(frozen=True)
class Wording:
    """One document's labels: `pair` for [Thai, English], `text` for a single string."""

    name: str
    data: dict[str, Any]

    def _get(self, section: str, key: str) -> Any:
        try:
            return self.data[section][key]
        except (KeyError, TypeError):
            raise TemplateError(f"template {self.name}: no [{section}] {key}") from None

    def text(self, section: str, key: str) -> str:
        value = self._get(section, key)
        if not isinstance(value, str):
            raise TemplateError(f"template {self.name}: [{section}] {key} must be a string")
        return value

    def pair(self, section: str, key: str) -> tuple[str, str]:
        value = self._get(section, key)
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, str) for v in value)):
            raise TemplateError(f"template {self.name}: [{section}] {key} must be "
                                "[Thai, English]")
        return value[0], value[1]


def folder() -> Path:
    return Path(os.environ.get("TRANSCRIPTS_TEMPLATES") or DEFAULT_DIR)


def wording(name: str) -> Wording:
    """The wording of document `name` (`pp1`, `vocational`) from the templates folder."""
    return _load(folder() / f"{name}.toml")


@lru_cache(maxsize=8)
def _load(path: Path) -> Wording:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise TemplateError(f"cannot read the template {path}: {e}") from None
    return Wording(path.stem, data)
