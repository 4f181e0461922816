"""The published JSON Schemas of `transcript.json`, as a test checks a record against them.

`validate` picks the schema the record names (its ``schema`` member is the schema's
``$id``); `checking_every_record` makes every record the suite serialises pass through it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from issuer.adapters.publish import schema_files
from issuer.core import record_json


@cache
def validators() -> dict[str, Draft202012Validator]:
    """`$id` -> validator, for every schema file the issuer publishes."""
    out = {}
    for path in schema_files().values():
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        out[schema["$id"]] = Draft202012Validator(schema, format_checker=FormatChecker())
    return out


def validate(document: dict[str, Any]) -> None:
    """Raise `jsonschema.ValidationError` unless `document` follows the schema it names."""
    found = validators().get(document.get("schema", ""))
    if found is None:
        raise AssertionError(f"no published schema {document.get('schema')!r}")
    found.validate(document)


@contextmanager
def checking_every_record() -> Iterator[None]:
    """While active, `record_json.to_dict` (so `to_canonical`, what is hashed, embedded and
    stored) validates each record it makes."""
    original = record_json.to_dict
    seen: set[int] = set()  # records already validated (a record is serialised repeatedly)

    def checked(t: Any) -> dict[str, Any]:
        document = original(t)
        key = hash(t)
        if key not in seen:
            validate(document)
            seen.add(key)
        return document

    record_json.to_dict = checked  # type: ignore[assignment]
    try:
        yield
    finally:
        record_json.to_dict = original  # type: ignore[assignment]
