"""Issuer settings, read from the environment (embedded defaults need no services)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
BANGKOK = ZoneInfo("Asia/Bangkok")
PADES_LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")
"""`issuer.adapters.pdf_signing.PadesLevel`, lowest first."""
DEFAULT_PKI_URL = "http://127.0.0.1:8002"
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
"""Where `transcripts serve` runs the issuer's web service (`issuer.web.config`)."""
"""Where `transcripts serve` runs the PKI's online services (`issuer.pki_services`)."""
"""Where the service's dates are: a birth date "in the future" is after today in Bangkok."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    """Any SQLAlchemy URL; default a SQLite file under var/."""
    keys_dir: Path
    """Where the development PKI lives (git-ignored)."""
    key_passphrase: bytes | None
    """Passphrase of the encrypted private keys (``BKT_KEY_PASSPHRASE``); None reads
    `key_passphrase_file`, a systemd credential, or in development a random one under
    `var_dir` (`issuer.adapters.passphrase`). Never a file in `keys_dir`."""
    output_dir: Path
    """Where issued PDFs are written."""
    published_dir: Path
    """Where the documents for verifiers (JWKS, status lists) are written."""
    verifier_url: str
    """Base URL of the verifier; the QR holds ``{verifier_url}/v#{jws}``."""
    public_base_url: str = DEFAULT_PUBLIC_BASE_URL
    """``BKT_PUBLIC_BASE_URL``: the issuer web service's address, as its web config has it.
    The VC 2.0 export names the issuer ``did:web`` of it (``did:web:127.0.0.1%3A8000``)
    and its status list credentials under it; an SD-JWT VC names its Token Status List
    at ``{public_base_url}/status/<code>/token-status.jwt`` (docs/interop.md)."""
    vc_export: bool = True
    """``BKT_VC_EXPORT`` (``0`` turns it off): write each version's W3C VC 2.0 export
    beside its PDF at issuance. It costs about as much CPU as rendering the PDF for a
    school transcript (JSON-LD canonicalisation, `bench/vc_export.py`); the DID document
    and the status list credentials are published either way."""
    celery_broker: str | None = None
    """Broker URL (``redis://127.0.0.1:6379/0``) to run jobs on Celery workers; None runs
    them on the embedded local worker (`issuer.jobs.local`)."""
    celery_queue: str = "transcripts"
    """The Celery queue jobs are sent to and workers consume."""
    integrity_key: str | None = None
    """The integrity key (base64url, `issuer.adapters.integrity`); None reads
    keys_dir/integrity.key."""
    key_passphrase_file: Path | None = None
    """A secret-store file holding the passphrase (``BKT_KEY_PASSPHRASE_FILE``: a Docker
    or Kubernetes secret); refused inside `keys_dir`."""
    credentials_dir: Path | None = None
    """systemd's ``$CREDENTIALS_DIRECTORY``: its ``bkt-key-passphrase``, if any, is the
    passphrase (``LoadCredential=`` / ``LoadCredentialEncrypted=``)."""
    second_factor_roles: tuple[str, ...] = ("admin", "approver")
    """``BKT_SECOND_FACTOR_ROLES`` (comma-separated): roles that act only with two-step
    sign-in (TOTP) on: on the web nothing but their account page opens until it is, and
    the command line refuses ``--as`` (ASVS 4.3.1)."""
    hsm_token: str | None = None
    """``BKT_HSM_TOKEN``: label of the PKCS#11 token (HSM) that institutions' keys made
    with ``--hsm`` go into and that signs with them (`issuer.adapters.hsm`, docs/hsm.md);
    None: file keys only."""
    hsm_module: Path = Path("/usr/lib/softhsm/libsofthsm2.so")
    """``BKT_HSM_MODULE``: the HSM vendor's PKCS#11 library (default Debian's SoftHSM2)."""
    hsm_pin: str | None = None
    """``BKT_HSM_PIN``: the token's user PIN; None reads `hsm_pin_file` or the systemd
    credential ``bkt-hsm-pin``. Never a file in `keys_dir`."""
    hsm_pin_file: Path | None = None
    """``BKT_HSM_PIN_FILE``: a secret-store file holding the PIN; refused inside `keys_dir`."""
    hsm_key_label: str = "bkt-{code}-{generation}-{purpose}"
    """``BKT_HSM_KEY_LABEL``: the ``CKA_LABEL`` of each institution's keys in the token
    (``{code}``, ``{generation}``, ``{purpose}`` = pdf or credential)."""
    var_dir: Path = ROOT / "var"
    """The service's private state (``BKT_VAR_DIR``), mode 0700: the SQLite database,
    PDFs, the development secrets."""
    pki_url: str | None = None
    """Base URL of the BMA PKI's online services, CRL, OCSP and TSA (``BKT_PKI_URL``,
    default `DEFAULT_PKI_URL`; empty: none). Certificates made by `transcripts keys
    create` name its CRL and OCSP URLs; `transcripts serve` runs the services there."""
    tsa_url: str | None = None
    """The RFC 3161 time-stamping authority that timestamps signatures and documents
    (``BKT_TSA_URL``): ``{pki_url}/tsa`` for the project's own, or any external TSA.
    None: signatures without timestamps (B-B)."""
    pades_level: str | None = None
    """``BKT_PADES_LEVEL``: B-B, B-T, B-LT or B-LTA (docs/long-term-validity.md); None:
    B-LTA when a TSA is configured, else B-B. OCSP and CRLs come from the URLs the
    certificates name."""

    def __post_init__(self) -> None:
        if self.pades_level is not None and self.pades_level not in PADES_LEVELS:
            raise ValueError(f"BKT_PADES_LEVEL must be one of {', '.join(PADES_LEVELS)}, "
                             f"not {self.pades_level!r}")
        if self.signing_level != "B-B" and not self.tsa_url:
            raise ValueError(f"PAdES {self.signing_level} needs a time-stamping authority: "
                             "set BKT_TSA_URL")

    @property
    def signing_level(self) -> str:
        """The PAdES level transcripts are signed at."""
        if self.pades_level is not None:
            return self.pades_level
        return "B-LTA" if self.tsa_url else "B-B"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        var = Path(env.get("BKT_VAR_DIR", ROOT / "var"))
        passphrase = env.get("BKT_KEY_PASSPHRASE")
        passphrase_file = env.get("BKT_KEY_PASSPHRASE_FILE")
        credentials = env.get("CREDENTIALS_DIRECTORY")
        return cls(
            database_url=env.get("BKT_DATABASE_URL", f"sqlite:///{var / 'transcripts.db'}"),
            keys_dir=Path(env.get("BKT_KEYS_DIR", ROOT / "keys")),
            key_passphrase=passphrase.encode() if passphrase else None,
            output_dir=Path(env.get("BKT_OUTPUT_DIR", var / "out")),
            published_dir=Path(env.get("BKT_PUBLISHED_DIR", var / "published")),
            verifier_url=env.get("BKT_VERIFIER_URL", "http://127.0.0.1:8001"),
            public_base_url=(env.get("BKT_PUBLIC_BASE_URL") or "").strip()
            or DEFAULT_PUBLIC_BASE_URL,
            vc_export=env.get("BKT_VC_EXPORT", "1").strip() != "0",
            celery_broker=env.get("BKT_CELERY_BROKER") or None,
            celery_queue=env.get("BKT_CELERY_QUEUE") or "transcripts",
            integrity_key=env.get("BKT_INTEGRITY_KEY") or None,
            key_passphrase_file=Path(passphrase_file) if passphrase_file else None,
            credentials_dir=Path(credentials) if credentials else None,
            var_dir=var,
            pki_url=env.get("BKT_PKI_URL", DEFAULT_PKI_URL).strip() or None,
            tsa_url=env.get("BKT_TSA_URL", "").strip() or None,
            pades_level=env.get("BKT_PADES_LEVEL", "").strip().upper() or None,
            hsm_token=env.get("BKT_HSM_TOKEN") or None,
            hsm_module=Path(env.get("BKT_HSM_MODULE") or "/usr/lib/softhsm/libsofthsm2.so"),
            hsm_pin=env.get("BKT_HSM_PIN") or None,
            hsm_pin_file=Path(env["BKT_HSM_PIN_FILE"]) if env.get("BKT_HSM_PIN_FILE") else None,
            hsm_key_label=env.get("BKT_HSM_KEY_LABEL") or "bkt-{code}-{generation}-{purpose}",
            second_factor_roles=tuple(
                r.strip() for r in env.get("BKT_SECOND_FACTOR_ROLES", "admin,approver")
                .split(",") if r.strip()),
        )
