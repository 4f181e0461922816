"""Each institution's signed directory (`verifier.core.directory`): its names and its
programmes' names, for verifiers to show beside the codes a QR credential carries.

Written next to the institution's status lists, ``status/<code>/directory.jws``, signed
by its credential key; `issuer.adapters.publish.write_trust_bundle` bundles it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from issuer.adapters.publish import STATUS_DIR
from issuer.adapters.publish import _write_text as write_text  # the same atomic write
from verifier.core import directory

if TYPE_CHECKING:
    from issuer.adapters.pki import InstitutionKeys


def directory_path(published_dir: Path, code: str) -> Path:
    return Path(published_dir) / STATUS_DIR / code / f"{directory.PURPOSE}.jws"


def write_directory(
    published_dir: Path,
    keys: InstitutionKeys,
    name_th: str,
    name_en: str,
    programmes: Mapping[str, tuple[str, str]],
    now: datetime,
) -> Path:
    """Sign and write the directory of the institution `keys` belong to: its names and
    its `programmes` (code -> (Thai name, English name))."""
    document = directory.build(keys.code, name_th, name_en, programmes, now)
    return write_text(directory_path(published_dir, keys.code),
                      directory.sign(document, keys.credential_key, keys.kid))
