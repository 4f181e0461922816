"""The key ceremony: the root CA stays offline, the issuer host gets only what it needs.

On an offline machine (removable media), `ceremony` makes the root CA, or reuses the one
kept there, and a new issuing CA it certifies, and writes an ``export/`` folder holding
the root certificate (the trust anchor), the issuing CA's certificate and its key
(encrypted with the issuer host's passphrase). On the issuer host, `install_authority`
checks that export and puts it in the key store; institutions' keys and their rotation
then need only the issuing CA. `move_root_key` upgrades a key store made before.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from issuer.adapters.pki import (
    EXPORT_DIR,
    HOST_CA_FILES,
    ROOT_CRL,
    ROOT_KEY,
    Authority,
    PkiError,
    _inside,
    _write_cert,
    _write_key,
    generate_authority,
    load_authority,
    make_root_crl,
    new_issuing_ca,
    private_dir,
    read_key_pair,
    write_private,
)
from issuer.adapters.responders import TSA_FILES, issue_tsa


def _load_root(offline: Path, passphrase: bytes) -> tuple[x509.Certificate,
                                                          ec.EllipticCurvePrivateKey]:
    root_key, root_cert = read_key_pair(offline / ROOT_KEY, offline / "root.crt", passphrase,
                                        ec.EllipticCurvePrivateKey)
    return root_cert, root_key


def ceremony(offline: Path, root_passphrase: bytes, export_passphrase: bytes,
             now: datetime, service_url: str | None = None) -> Path:
    """The key ceremony, on an offline machine: make the root CA in `offline` (or reuse
    the one there) and a new issuing CA it certifies; write to `offline/export/` only
    what the issuer host needs: ``root.crt`` (the trust anchor), ``issuing.crt`` and
    ``issuing.key`` (encrypted with `export_passphrase`, the issuer host's), and the TSA's
    ``tsa.crt`` and ``tsa.key`` (the root certifies it, so its timestamps outlive the
    issuing CA; `issuer.adapters.responders`). The root's
    key stays in `offline`, encrypted with `root_passphrase`. Returns the export folder."""
    offline = Path(offline)
    present = [(offline / name).exists() for name in ("root.crt", ROOT_KEY)]
    if all(present):
        root_cert, root_key = _load_root(offline, root_passphrase)
        authority = new_issuing_ca(root_cert, root_key, now, service_url)
    elif any(present):
        raise PkiError(f"{offline} holds half a root CA; restore the other half")
    else:
        authority = generate_authority(now, service_url)
        assert authority.root_key is not None
        private_dir(offline)
        _write_key(offline / ROOT_KEY, authority.root_key, root_passphrase)
        _write_cert(offline / "root.crt", authority.root_cert)
    _write_cert(offline / "issuing.crt", authority.issuing_cert)
    export = private_dir(offline / EXPORT_DIR)
    _write_cert(export / "root.crt", authority.root_cert)
    _write_cert(export / "issuing.crt", authority.issuing_cert)
    _write_key(export / "issuing.key", authority.issuing_key, export_passphrase)
    tsa_key, tsa_cert = issue_tsa(authority, now)  # by the root: outlives the issuing CA
    _write_key(export / "tsa.key", tsa_key, export_passphrase)
    _write_cert(export / "tsa.crt", tsa_cert)
    if service_url:  # the root's CRL, for the services to publish until the next ceremony
        assert authority.root_key is not None
        write_private(export / ROOT_CRL,
                      make_root_crl(authority.root_cert, authority.root_key, now))
    return export


def install_authority(export: Path, directory: Path, passphrase: bytes) -> Authority:
    """Put a ceremony's export into the issuer key store `directory`, once checked: it
    holds no root key, the issuing key opens with the host's `passphrase` and matches its
    certificate, and the root certificate certified it. A store with a CA is refused."""
    export, directory = Path(export), Path(directory)
    if (export / ROOT_KEY).exists():
        raise PkiError(f"{export} holds {ROOT_KEY}: the root CA's key never goes to the "
                       "issuer host; export only root.crt, issuing.crt and issuing.key")
    if any((directory / name).exists() for name in HOST_CA_FILES):
        raise PkiError(f"{directory} has a CA already")
    authority = load_authority(export, passphrase)
    private_dir(directory)
    for name in (*HOST_CA_FILES, *TSA_FILES, ROOT_CRL):
        if (export / name).exists():  # TSA, root CRL: from ceremonies since they exist
            write_private(directory / name, (export / name).read_bytes())
    return authority


def move_root_key(directory: Path, offline: Path) -> Path:
    """Upgrade a key store made before the ceremony: move its `root.key` (with a copy of
    `root.crt`) to `offline` (removable media), outside the key store."""
    directory, offline = Path(directory), Path(offline)
    source = directory / ROOT_KEY
    if not source.exists():
        raise PkiError(f"no {ROOT_KEY} in {directory}: nothing to move")
    if _inside(offline, directory):
        raise PkiError(f"{offline} is inside the key store {directory}: choose offline media")
    target = private_dir(offline) / ROOT_KEY
    if target.exists():
        raise PkiError(f"{target} exists already: a root key is never overwritten")
    write_private(target, source.read_bytes())
    shutil.copyfile(directory / "root.crt", offline / "root.crt")
    source.unlink()
    return target
