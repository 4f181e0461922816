"""Institution keys in an HSM, reached through PKCS#11 (python-pkcs11).

A generation whose keys are in a token holds, in its key-store folder, the two
certificates as usual and ``token.json`` naming the token and the keys' labels and
``CKA_ID``s; no private key is ever on disk. The keys are made inside the token,
sensitive and not extractable (`create_keys`); the issuing CA, a file key as before,
certifies their public parts (`issuer.adapters.keystore`).

Signing goes through `TokenRsaKey` and `TokenEcKey`: `cryptography` private-key types
whose `sign` asks the token, so everything that signs with an institution's keys (the
PAdES signer, the QR's COSE and JWS, status lists, the directory) works unchanged. The
host hashes (SHA-256) and the token signs the digest: ``CKM_RSA_PKCS`` over the
DigestInfo for the PDF key, ``CKM_ECDSA`` for the credential key, whose raw ``r||s`` is
returned DER-encoded as `cryptography` does (JWS and COSE take the raw form back).

Each process opens its own session, logged in, on first use and keeps it (`session`):
a worker forked or started by the fork server never uses its parent's, and a process
forked after its parent opened one initialises the library again.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, Self

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from issuer.adapters.pki import RSA_BITS, PkiError

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
"""Debian's SoftHSM2 (package ``softhsm2``): the development and CI token."""
KEY_LABEL = "bkt-{code}-{generation}-{purpose}"
"""Default ``CKA_LABEL`` of an institution's keys; `purpose` is ``pdf`` or ``credential``."""
TOKEN_FILE = "token.json"
"""In a generation's folder: which token holds its keys (no secret)."""
PIN_CREDENTIAL = "bkt-hsm-pin"
"""The file name looked up in ``$CREDENTIALS_DIRECTORY`` (systemd ``LoadCredential=``)."""

# DER DigestInfo prefix of SHA-256 (RFC 8017, 9.2 note 1)
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


@dataclass(frozen=True)
class TokenConfig:
    """How to reach the token (`issuer.config.Settings`: ``BKT_HSM_*``)."""

    module: Path
    """The vendor's PKCS#11 library."""
    token: str
    """``CKA_LABEL`` of the token (slot) keys are made in."""
    pin: str = field(repr=False)
    """The user PIN (``BKT_HSM_PIN``, ``BKT_HSM_PIN_FILE`` or a systemd credential)."""
    key_label: str = KEY_LABEL
    """Template of the keys' labels: ``{code}``, ``{generation}``, ``{purpose}``."""


@dataclass(frozen=True)
class KeyRef:
    label: str
    id: bytes
    """``CKA_ID``: random, shared by the private key, its public key and certificate."""


@dataclass(frozen=True)
class TokenKeys:
    """Where one generation's two private keys are (its ``token.json``)."""

    token: str
    pdf: KeyRef
    credential: KeyRef

    def to_json(self) -> dict[str, Any]:
        return {"token": self.token,
                **{name: {"label": ref.label, "id": ref.id.hex()}
                   for name, ref in (("pdf", self.pdf), ("credential", self.credential))}}

    @classmethod
    def from_json(cls, data: Any) -> TokenKeys:
        try:
            return cls(str(data["token"]),
                       *(KeyRef(str(data[n]["label"]), bytes.fromhex(data[n]["id"]))
                         for n in ("pdf", "credential")))
        except (KeyError, TypeError, ValueError) as e:
            raise PkiError(f"not a token key reference: {e}") from None


def read_token_keys(folder: Path) -> TokenKeys | None:
    """The token references of the generation in `folder`; None for file keys."""
    path = Path(folder) / TOKEN_FILE
    try:
        return TokenKeys.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise PkiError(f"unreadable {path}: {e}") from None


def token_json(keys: TokenKeys) -> bytes:
    return json.dumps(keys.to_json(), indent=1).encode("utf-8") + b"\n"


# --- sessions: one per process ------------------------------------------------------------

_lock = threading.Lock()
_sessions: dict[tuple[str, str], tuple[int, Any, threading.Lock]] = {}
_initialised: dict[str, int] = {}  # module -> pid that initialised it


def _library(module: Path) -> Any:
    try:
        import pkcs11
    except ImportError:
        raise PkiError("python-pkcs11 is not installed (pip install 'pyhanko[pkcs11]')"
                       ) from None
    path = str(module)
    if not Path(path).exists():
        raise PkiError(f"no PKCS#11 module at {path} (BKT_HSM_MODULE)")
    lib = pkcs11.lib(path)
    pid = os.getpid()
    if _initialised.setdefault(path, pid) != pid:
        lib.reinitialize()  # forked after the parent used it: the child starts afresh
        _initialised[path] = pid
    return lib


OPEN_TRIES = 5
"""Opening a session is retried (the library initialised afresh): SoftHSM2's
file store can be rewritten by another process's login while this one reads it, and
the token is then missing or fails with ``CKR_GENERAL_ERROR`` for a moment."""


def _open(module: Path, token_label: str, pin: str, *, rw: bool) -> Any:
    import pkcs11
    from pkcs11.exceptions import GeneralError, NoSuchToken, PinIncorrect, UserAlreadyLoggedIn

    for attempt in range(OPEN_TRIES):
        lib = _library(module)
        if attempt:
            time.sleep(0.1 * attempt)
            if not any(m == str(module) and pid == os.getpid()
                       for (m, _), (pid, _, _) in _sessions.items()):
                lib.reinitialize()  # nothing of this process's is open on it to lose
        try:
            token = lib.get_token(token_label=token_label)
            try:
                return token.open(rw=rw, user_pin=pin)
            except UserAlreadyLoggedIn:  # the login is per process: it has a session already
                return token.open(rw=rw)
        except (NoSuchToken, GeneralError) as e:
            error = e
        except PinIncorrect:
            raise PkiError(f"wrong PIN for token {token_label!r} (BKT_HSM_PIN)") from None
        except pkcs11.PKCS11Error as e:
            raise PkiError(f"cannot open token {token_label!r}: {type(e).__name__} {e}"
                           ) from None
    if isinstance(error, NoSuchToken):
        raise PkiError(f"no token labelled {token_label!r} in {module}") from None
    raise PkiError(f"cannot open token {token_label!r}: {type(error).__name__}") from None


def session(module: Path, token_label: str, pin: str) -> tuple[Any, threading.Lock]:
    """This process's session with `token_label` (read-only, logged in) and the lock that
    serialises operations on it; opened on first use, reopened in a forked child."""
    key = (str(module), token_label)
    pid = os.getpid()
    with _lock:
        found = _sessions.get(key)
        if found is None or found[0] != pid:
            found = (pid, _open(module, token_label, pin, rw=False), threading.Lock())
            _sessions[key] = found
        return found[1], found[2]


# --- keys that sign in the token ----------------------------------------------------------


class _TokenKey:
    """The private half of a key pair in a token; found by ``CKA_ID`` once per process."""

    def __init__(self, config: TokenConfig, token_label: str, ref: KeyRef) -> None:
        self._config = config
        self._token = token_label
        self.ref = ref
        self._found: tuple[int, Any, threading.Lock] | None = None

    @property
    def token_label(self) -> str:
        return self._token

    def _handle(self) -> tuple[Any, threading.Lock]:
        found = self._found
        if found is None or found[0] != os.getpid():
            from pkcs11 import Attribute, ObjectClass

            opened, lock = session(self._config.module, self._token, self._config.pin)
            with lock:
                handles = list(opened.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                                                   Attribute.ID: self.ref.id}))
            if len(handles) != 1:
                raise PkiError(f"token {self._token!r} holds {len(handles)} private keys "
                               f"with the id of {self.ref.label!r}, not one")
            found = self._found = (os.getpid(), handles[0], lock)
        return found[1], found[2]

    def _sign_token(self, data: bytes, mechanism: Any) -> bytes:
        import pkcs11

        handle, lock = self._handle()
        try:
            with lock:
                return bytes(handle.sign(data, mechanism=mechanism))
        except pkcs11.PKCS11Error as e:
            raise PkiError(f"token {self._token!r} refused to sign with {self.ref.label!r}: "
                           f"{type(e).__name__} {e}") from None

    def private_numbers(self) -> NoReturn:
        raise TypeError(f"{self.ref.label} stays in token {self._token!r}: not exportable")

    def private_bytes(self, *args: Any, **kwargs: Any) -> NoReturn:
        self.private_numbers()

    def __copy__(self) -> Self:
        return self  # a handle to the one key in the token

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self


def _sha256(data: bytes, algorithm: Any) -> bytes:
    """SHA-256 of `data`, on the host: the token signs the digest."""
    if not isinstance(algorithm, hashes.SHA256):
        raise ValueError("only SHA-256 signatures are made in the token")
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize()


class TokenRsaKey(_TokenKey, rsa.RSAPrivateKey):
    """An RSA key in a token; signs PKCS#1 v1.5 with SHA-256 only."""

    def __init__(self, config: TokenConfig, token_label: str, ref: KeyRef,
                 public: rsa.RSAPublicKey) -> None:
        super().__init__(config, token_label, ref)
        self._public = public

    def sign(self, data: bytes, padding_: padding.AsymmetricPadding,
             algorithm: Any) -> bytes:
        from pkcs11 import Mechanism

        if not isinstance(padding_, padding.PKCS1v15):
            raise ValueError("only PKCS#1 v1.5 signatures are made in the token")
        return self._sign_token(_SHA256_DIGEST_INFO + _sha256(data, algorithm),
                                Mechanism.RSA_PKCS)

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def decrypt(self, ciphertext: bytes, padding: padding.AsymmetricPadding) -> bytes:
        raise TypeError("the PDF-signing key only signs")


class TokenEcKey(_TokenKey, ec.EllipticCurvePrivateKey):
    """A P-256 key in a token; signs ECDSA with SHA-256 only (``CKM_ECDSA`` over the
    digest), returning the DER signature `cryptography` returns."""

    def __init__(self, config: TokenConfig, token_label: str, ref: KeyRef,
                 public: ec.EllipticCurvePublicKey) -> None:
        super().__init__(config, token_label, ref)
        self._public = public

    def sign(self, data: bytes, signature_algorithm: ec.EllipticCurveSignatureAlgorithm
             ) -> bytes:
        from pkcs11 import Mechanism

        if not isinstance(signature_algorithm, ec.ECDSA):
            raise ValueError("only ECDSA signatures are made in the token")
        raw = self._sign_token(_sha256(data, signature_algorithm.algorithm), Mechanism.ECDSA)
        half = len(raw) // 2
        return encode_dss_signature(int.from_bytes(raw[:half], "big"),
                                    int.from_bytes(raw[half:], "big"))

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public.curve

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey
                 ) -> bytes:
        raise TypeError("the credential key only signs")


def token_keys(config: TokenConfig, refs: TokenKeys, pdf_public: rsa.RSAPublicKey,
               credential_public: ec.EllipticCurvePublicKey) -> tuple[TokenRsaKey, TokenEcKey]:
    """The two signing keys of a generation, checked: each is a private key in the token
    whose public half is the one its certificate names."""
    pdf = TokenRsaKey(config, refs.token, refs.pdf, pdf_public)
    credential = TokenEcKey(config, refs.token, refs.credential, credential_public)
    _check_public(pdf, pdf_public)
    _check_public(credential, credential_public)
    return pdf, credential


def _check_public(key: _TokenKey, expected: rsa.RSAPublicKey | ec.EllipticCurvePublicKey
                  ) -> None:
    from pkcs11 import Attribute, ObjectClass

    key._handle()  # the private key is there
    opened, lock = session(key._config.module, key._token, key._config.pin)
    with lock:
        found = [public_key_of(p) for p in opened.get_objects(
            {Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.ID: key.ref.id})]
    if expected not in found:
        raise PkiError(f"token {key._token!r}: {key.ref.label!r} is not the key its "
                       "certificate names")


def public_key_of(obj: Any) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    """The `cryptography` key of a PKCS#11 public-key object."""
    from pkcs11 import Attribute, KeyType
    from pkcs11.util.ec import encode_ec_public_key

    if obj.key_type == KeyType.RSA:
        return rsa.RSAPublicNumbers(
            int.from_bytes(obj[Attribute.PUBLIC_EXPONENT], "big"),
            int.from_bytes(obj[Attribute.MODULUS], "big")).public_key()
    public = serialization.load_der_public_key(encode_ec_public_key(obj))
    assert isinstance(public, ec.EllipticCurvePublicKey)
    return public


# --- making keys in the token -------------------------------------------------------------


@dataclass(frozen=True)
class NewTokenKeys:
    refs: TokenKeys
    pdf: TokenRsaKey
    credential: TokenEcKey


def create_keys(config: TokenConfig, code: str, generation: int) -> NewTokenKeys:
    """Generate an RSA-3072 PDF-signing and a P-256 credential key pair in the token:
    private halves sensitive, never extractable, signing only; public halves kept too."""
    from pkcs11 import Attribute, KeyType, MechanismFlag
    from pkcs11.util.ec import encode_named_curve_parameters

    def ref(purpose: str) -> KeyRef:
        label = config.key_label.format(code=code, generation=generation, purpose=purpose)
        return KeyRef(label, secrets.token_bytes(16))

    private = {Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.SENSITIVE: True,
               Attribute.EXTRACTABLE: False, Attribute.SIGN: True, Attribute.DECRYPT: False}
    public = {Attribute.TOKEN: True, Attribute.VERIFY: True, Attribute.ENCRYPT: False}
    refs = TokenKeys(config.token, ref("pdf"), ref("credential"))
    opened = _open(config.module, config.token, config.pin, rw=True)
    try:
        pdf_public, _ = opened.generate_keypair(
            KeyType.RSA, RSA_BITS, id=refs.pdf.id, label=refs.pdf.label, store=True,
            capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
            public_template={**public, Attribute.PUBLIC_EXPONENT: (65537).to_bytes(3, "big")},
            private_template=private)
        params = opened.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
            local=True)
        credential_public, _ = params.generate_keypair(
            id=refs.credential.id, label=refs.credential.label, store=True,
            capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
            public_template=public, private_template=private)
        pdf_key, credential_key = public_key_of(pdf_public), public_key_of(credential_public)
    finally:
        opened.close()
    assert isinstance(pdf_key, rsa.RSAPublicKey)
    assert isinstance(credential_key, ec.EllipticCurvePublicKey)
    return NewTokenKeys(refs, TokenRsaKey(config, refs.token, refs.pdf, pdf_key),
                        TokenEcKey(config, refs.token, refs.credential, credential_key))


def store_certificate(config: TokenConfig, ref: KeyRef, der: bytes, subject: bytes) -> None:
    """Put a key's certificate in the token beside it (same ``CKA_ID`` and label), where
    PKCS#11 tools and pyHanko's PKCS11Signer look for it."""
    from pkcs11 import Attribute, CertificateType, ObjectClass

    opened = _open(config.module, config.token, config.pin, rw=True)
    try:
        opened.create_object({
            Attribute.CLASS: ObjectClass.CERTIFICATE,
            Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True, Attribute.PRIVATE: False,
            Attribute.LABEL: ref.label, Attribute.ID: ref.id,
            Attribute.SUBJECT: subject, Attribute.VALUE: der})
    finally:
        opened.close()


# --- the PIN ------------------------------------------------------------------------------


def resolve_pin(keys_dir: Path, configured: str | None, file: Path | None,
                credentials_dir: Path | None) -> str:
    """The token's user PIN: `configured` (``BKT_HSM_PIN``), else `file`
    (``BKT_HSM_PIN_FILE``), else ``bkt-hsm-pin`` in `credentials_dir`. Like the key
    passphrase, never a file inside the keys directory; there is no development default."""
    from issuer.adapters.passphrase import read_secret

    if configured:
        return configured
    if file is not None:
        return read_secret(Path(file), keys_dir, "BKT_HSM_PIN_FILE").decode()
    if credentials_dir is not None and (Path(credentials_dir) / PIN_CREDENTIAL).exists():
        return read_secret(Path(credentials_dir) / PIN_CREDENTIAL, keys_dir,
                           "the HSM PIN credential").decode()
    raise PkiError("the HSM's PIN is not configured: BKT_HSM_PIN, BKT_HSM_PIN_FILE or the "
                   f"systemd credential {PIN_CREDENTIAL}")
