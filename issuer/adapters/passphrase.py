"""Where the private keys' passphrase comes from: never a file beside the keys.

In order: ``BKT_KEY_PASSPHRASE`` (the environment); a secret-store file,
``BKT_KEY_PASSPHRASE_FILE`` or ``$CREDENTIALS_DIRECTORY/bkt-key-passphrase`` (a systemd
credential, a Docker or Kubernetes secret); otherwise, for development only, a random
one kept in ``<var>/secrets/key-passphrase`` (0600, its folders 0700), made on first use.
A passphrase file inside the keys directory is refused, and so is the ``.passphrase``
that earlier versions left there: whoever reads the keys must not find what unlocks them.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from issuer.adapters.pki import PkiError, _inside, private_dir, write_private

LEGACY_FILE = ".passphrase"
"""Where versions before the key ceremony kept it: beside the keys."""
CREDENTIAL_NAME = "bkt-key-passphrase"
"""The file name looked up in ``$CREDENTIALS_DIRECTORY`` (systemd ``LoadCredential=``)."""
DEV_FILE = Path("secrets") / "key-passphrase"
"""The development passphrase, relative to the var directory."""


def check_keys_dir(keys_dir: Path) -> None:
    """Refuse a key store that still holds its own passphrase file."""
    legacy = Path(keys_dir) / LEGACY_FILE
    if legacy.exists():
        raise PkiError(
            f"{legacy} lies beside the keys it unlocks: move it out of the keys directory "
            "(development: mkdir -p -m 700 var/secrets && mv "
            f"{legacy} var/secrets/key-passphrase; production: put it in BKT_KEY_PASSPHRASE "
            "or a secret store, BKT_KEY_PASSPHRASE_FILE, and delete the file)")


def read_secret(path: Path, keys_dir: Path, name: str) -> bytes:
    """A secret from a secret-store file (stripped); refused inside `keys_dir`."""
    if _inside(path, keys_dir):
        raise PkiError(f"{name} ({path}) lies inside the keys directory {keys_dir}: keep the "
                       "secret apart from the keys it unlocks")
    try:
        value = path.read_bytes().strip()
    except OSError as e:
        raise PkiError(f"cannot read {name} ({path}): {e.strerror}") from None
    if not value:
        raise PkiError(f"{name} ({path}) is empty")
    return value


def dev_passphrase(var_dir: Path) -> bytes:
    """The development passphrase in `var_dir/secrets/key-passphrase`, made (random,
    0600, folders 0700) if absent."""
    path = Path(var_dir) / DEV_FILE
    try:
        value = path.read_bytes().strip()
    except FileNotFoundError:
        private_dir(Path(var_dir))
        private_dir(path.parent)
        value = secrets.token_urlsafe(32).encode()
        write_private(path, value + b"\n")
        return value
    if not value:
        raise PkiError(f"{path} is empty")
    return value


def resolve(keys_dir: Path, var_dir: Path, configured: bytes | None = None,
            file: Path | None = None, credentials_dir: Path | None = None) -> bytes:
    """The passphrase of the keys in `keys_dir`: `configured` (``BKT_KEY_PASSPHRASE``),
    else `file` (``BKT_KEY_PASSPHRASE_FILE``), else ``bkt-key-passphrase`` in
    `credentials_dir` when it holds one, else the development file under `var_dir`."""
    check_keys_dir(keys_dir)
    if configured:
        return configured
    if file is not None:
        return read_secret(Path(file), keys_dir, "BKT_KEY_PASSPHRASE_FILE")
    if credentials_dir is not None and (Path(credentials_dir) / CREDENTIAL_NAME).exists():
        return read_secret(Path(credentials_dir) / CREDENTIAL_NAME, keys_dir,
                     "the key passphrase credential")
    if _inside(Path(var_dir) / DEV_FILE, keys_dir):
        raise PkiError(f"the development passphrase would be made inside the keys directory "
                       f"{keys_dir}: set BKT_VAR_DIR elsewhere or BKT_KEY_PASSPHRASE")
    return dev_passphrase(var_dir)
