"""A refusal the user can act on, worded once: an English catalog message with named
values (``"batch %(batch)s is %(status)s"``), so the web shows it in the reader's language
(`issuer.web.errors.said`) and the command line and the logs in English (`str`)."""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple


class Both(NamedTuple):
    """A value already worded in both languages (a batch warning's reason)."""

    th: str
    en: str


def _english(value: object) -> object:
    if isinstance(value, Both):
        return value.en
    return value.value if isinstance(value, Enum) else value


class Refusal(Exception):
    """`message` is a catalog id in English with ``%(name)s`` placeholders (a literal
    ``%%``); `values` fill them (an enum by its value, which the web words as its label)."""

    def __init__(self, message: str, /, **values: object) -> None:
        self.message, self.values = message, values
        super().__init__(message % {k: _english(v) for k, v in values.items()})


class Phrase(str):
    """A value of a `Refusal` that is itself an English catalog phrase (``"revoke a
    transcript"``): the web words it in the reader's language too."""

    __slots__ = ()
