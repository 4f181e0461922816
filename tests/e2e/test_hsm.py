"""Institution keys in an HSM through PKCS#11 (issue 12, part 5), with a SoftHSM2 token
this test process initialises (tests/softhsm.py): keys made in the token by the command
line, never extractable, never on disk; a batch signed through the token by the local
worker pool verifies on every path, with pyHanko and with poppler; rotation keeps keys
in the token; the JWKS publishes the token key's public part."""

from __future__ import annotations

import copy
import json
import multiprocessing
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from joserfc.jwk import ECKey

from issuer.adapters import hsm, keystore
from issuer.adapters.hsm import TokenConfig
from issuer.adapters.pki import PkiError, load_institution_keys, load_root, write_dev_pki
from issuer.services.context import Issuer
from issuer.services.keys import rotate_keys
from tests.e2e.conftest import EXAMPLES, PASSPHRASE, issue_file, make_issuer, only_students
from tests.e2e.test_key_lifecycle import ADMIN, every_path, jwks, kid
from tests.pdfcheck import pdfsig_report, pyhanko_validate
from verifier.core import data_integrity, did_web
from verifier.core.canonical import b64url_decode
from verifier.core.credential import kid_for, verify
from verifier.core.verdict import Result

pytestmark = pytest.mark.usefixtures("hsm_token")


@pytest.fixture(scope="module")
def hsm_store(hsm_token: TokenConfig, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1001's keys in the token, 2001's in files beside them."""
    directory = tmp_path_factory.mktemp("hsm-keys")
    now = datetime.now(UTC)
    write_dev_pki(directory, [("1001", "Wat Don School")], PASSPHRASE, now, token=hsm_token)
    write_dev_pki(directory, [("2001", "Din Daeng 1 Centre")], PASSPHRASE, now)
    return directory


def hsm_issuer(store: Path, folder: Path, token: TokenConfig) -> Issuer:
    return make_issuer(f"sqlite:///{folder / 'hsm.db'}", store, folder,
                       hsm_token=token.token, hsm_pin=token.pin, vc_export=True)


@pytest.fixture(scope="module")
def issued(hsm_store: Path, hsm_token: TokenConfig,
           tmp_path_factory: pytest.TempPathFactory) -> tuple[Issuer, list[bytes]]:
    """Two transcripts of 1001 signed through the token by two worker processes."""
    issuer = hsm_issuer(hsm_store, tmp_path_factory.mktemp("hsm-issued"), hsm_token)
    _, report = issue_file(issuer, "1001", "school-batch.csv",
                           only_students("school-batch.csv", "66001", "66002"), workers=2)
    return issuer, [(issuer.settings.output_dir / p).read_bytes() for p in report.issued]


def private_objects(token: TokenConfig, store: Path, code: str) -> list[Any]:
    from pkcs11 import Attribute, ObjectClass

    refs = hsm.read_token_keys(keystore.generation_dir(store, code, 1))
    assert refs is not None
    opened, lock = hsm.session(token.module, refs.token, token.pin)
    with lock:
        return [next(opened.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                                         Attribute.ID: ref.id}))
                for ref in (refs.pdf, refs.credential)]


def test_the_private_keys_never_leave_the_token(hsm_store: Path, hsm_token: TokenConfig
                                               ) -> None:
    from pkcs11 import Attribute
    from pkcs11.exceptions import AttributeSensitive

    objects = private_objects(hsm_token, hsm_store, "1001")
    assert len(objects) == 2
    for obj in objects:
        assert obj[Attribute.SENSITIVE] is True and obj[Attribute.ALWAYS_SENSITIVE] is True
        assert obj[Attribute.EXTRACTABLE] is False
        assert obj[Attribute.NEVER_EXTRACTABLE] is True
        assert obj[Attribute.SIGN] is True and obj[Attribute.TOKEN] is True
        with pytest.raises(AttributeSensitive):
            obj[Attribute.PRIVATE_EXPONENT if obj.key_type.name == "RSA" else Attribute.VALUE]
    files = {p.name for p in (hsm_store / "1001").rglob("*") if p.is_file()}
    assert files == {"generations.json", "pdf.crt", "credential.crt", "token.json"}
    assert all(b"PRIVATE KEY" not in p.read_bytes() for p in (hsm_store / "1001").rglob("*")
               if p.is_file())
    assert (hsm_store / "2001" / "1" / "pdf.key").exists()  # file keys stay the default
    keys = load_institution_keys(hsm_store, "1001", PASSPHRASE, hsm_token)
    for key in (keys.credential_key, keys.pdf_key):
        with pytest.raises(TypeError, match="stays in token"):
            key.private_bytes()
        with pytest.raises(TypeError, match="stays in token"):
            key.private_numbers()
        assert copy.deepcopy(key) is key  # a handle to the one key in the token


def test_a_batch_signed_in_the_token_verifies_on_every_path(
        issued: tuple[Issuer, list[bytes]], tmp_path: Path) -> None:
    issuer, pdfs = issued
    assert len(pdfs) == 2
    for pdf in pdfs:
        verdicts = every_path(issuer, pdf)
        assert {path: v.result for path, v in verdicts.items()} == dict.fromkeys(
            verdicts, Result.VALID)
    root = load_root(issuer.settings.keys_dir)
    status = pyhanko_validate(pdfs[0], root)
    assert status.intact and status.valid and status.trusted and status.docmdp_ok
    report = pdfsig_report(pdfs[0], root, tmp_path)
    assert "Signature Validation: Signature is Valid." in report
    assert "Certificate Validation: Certificate is Trusted." in report


def test_the_jwks_publishes_the_token_keys_public_part(
        issued: tuple[Issuer, list[bytes]], hsm_token: TokenConfig) -> None:
    from pkcs11 import Attribute, ObjectClass

    issuer, pdfs = issued
    refs = hsm.read_token_keys(keystore.generation_dir(issuer.settings.keys_dir, "1001", 1))
    assert refs is not None
    opened, lock = hsm.session(hsm_token.module, refs.token, hsm_token.pin)
    with lock:
        (public,) = opened.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY,
                                        Attribute.ID: refs.credential.id})
        in_token = hsm.public_key_of(public)
    assert isinstance(in_token, ec.EllipticCurvePublicKey)
    published = jwks(issuer)
    assert kid_for(in_token) in published and kid(pdfs[0]) == kid_for(in_token)
    numbers = in_token.public_numbers()
    jwk = published[kid_for(in_token)]
    assert "d" not in jwk
    assert int.from_bytes(b64url_decode(jwk["x"]), "big") == numbers.x


def test_both_credential_forms_signed_in_the_token_verify(hsm_store: Path,
                                                         hsm_token: TokenConfig) -> None:
    from issuer.adapters.credential_signing import sign_credential, sign_credential_jws
    from tests.unit.test_credential import CLAIMS

    keys = load_institution_keys(hsm_store, "1001", PASSPHRASE, hsm_token)
    public = keys.credential_cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    for token in (sign_credential(CLAIMS, keys), sign_credential_jws(CLAIMS, keys)):
        assert verify(token, {keys.kid: public}.get) == (keys.kid, CLAIMS)


def test_the_sd_jwt_vc_is_signed_in_the_token(issued: tuple[Issuer, list[bytes]]) -> None:
    """The SD-JWT VC written beside each PDF, signed by the token's credential key under
    the kid the JWKS publishes."""
    from verifier.core import sd_jwt, sd_jwt_vc

    issuer, pdfs = issued
    files = sorted((issuer.settings.output_dir / "1001").glob("*.sd-jwt"))
    assert len(files) == len(pdfs)
    published = jwks(issuer)
    for file in files:
        full = file.read_text("ascii")
        jwk = published[sd_jwt.header(full)["kid"]]
        public = ECKey.import_key({k: jwk[k] for k in ("kty", "crv", "x", "y")}).public_key
        verified = sd_jwt.verify(full, lambda _kid, key=public: key, types=sd_jwt_vc.TYPES,
                                 visible=sd_jwt_vc.VISIBLE)
        assert sd_jwt_vc.read(verified).withheld_fields == ()


def _sign_in_child(keys_dir: Path, token: TokenConfig, queue: Any) -> None:
    keys = load_institution_keys(keys_dir, "1001", PASSPHRASE, token)
    signature = keys.credential_key.sign(b"child", ec.ECDSA(hashes.SHA256()))
    pid, _, _ = hsm._sessions[(str(token.module), token.token)]
    queue.put((signature, pid == multiprocessing.current_process().pid))


def test_a_forked_worker_opens_its_own_session(hsm_store: Path, hsm_token: TokenConfig
                                              ) -> None:
    keys = load_institution_keys(hsm_store, "1001", PASSPHRASE, hsm_token)
    keys.credential_key.sign(b"parent", ec.ECDSA(hashes.SHA256()))  # the parent's session
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_sign_in_child, args=(hsm_store, hsm_token, queue))
    child.start()
    signature, own_session = queue.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0 and own_session
    keys.credential_cert.public_key().verify(signature, b"child", ec.ECDSA(hashes.SHA256()))


def test_keys_in_a_token_need_the_hsm_configured(hsm_store: Path, tmp_path: Path) -> None:
    with pytest.raises(PkiError, match="in the HSM token 'bkt-test': set BKT_HSM_TOKEN"):
        load_institution_keys(hsm_store, "1001", PASSPHRASE)
    pin_file = hsm_store / "hsm-pin"
    with pytest.raises(PkiError, match="inside the keys directory"):
        hsm.resolve_pin(hsm_store, None, pin_file, None)
    with pytest.raises(PkiError, match="PIN is not configured"):
        hsm.resolve_pin(hsm_store, None, None, tmp_path)


def test_rotation_keeps_keys_in_the_token_and_moves_file_keys_there_when_asked(
        hsm_store: Path, hsm_token: TokenConfig, tmp_path: Path) -> None:
    store = tmp_path / "keys"
    shutil.copytree(hsm_store, store)
    issuer = hsm_issuer(store, tmp_path, hsm_token)
    rotate_keys(issuer, "1001", actor=ADMIN)  # in the token, since the active keys are
    rotate_keys(issuer, "2001", actor=ADMIN, hsm=True)
    for code in ("1001", "2001"):
        assert keystore.in_token(store, code, 2)
        assert not list((store / code / "2").glob("*.key"))
        keys = issuer.keys(code)
        assert isinstance(keys.pdf_key, hsm.TokenRsaKey) and keys.kid in jwks(issuer)
        signature = keys.pdf_key.sign(b"rotated", padding.PKCS1v15(), hashes.SHA256())
        public = keys.pdf_cert.public_key()
        assert isinstance(public, rsa.RSAPublicKey)
        public.verify(signature, b"rotated", padding.PKCS1v15(), hashes.SHA256())


def test_keys_create_hsm_from_the_command_line(run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                              monkeypatch, hsm_token: TokenConfig) -> None:
    assert run("institutions", "load", EXAMPLES / "institutions.json").exit_code == 0
    refused = run("keys", "create", "--hsm", "--institution", "1001")
    assert refused.exit_code == 1 and "BKT_HSM_TOKEN" in refused.stderr
    monkeypatch.setenv("BKT_HSM_TOKEN", hsm_token.token)
    monkeypatch.setenv("BKT_HSM_PIN_FILE", str(tmp_path / "keys" / "pin"))
    inside = run("keys", "create", "--hsm", "--institution", "1001")
    assert inside.exit_code == 1 and "inside the keys directory" in inside.stderr
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "pin").write_text(hsm_token.pin + "\n")
    monkeypatch.setenv("BKT_HSM_PIN_FILE", str(secrets / "pin"))
    monkeypatch.setenv("BKT_HSM_MODULE", str(tmp_path / "no-such-module.so"))
    no_module = run("keys", "create", "--hsm", "--institution", "1001")
    assert no_module.exit_code == 1 and "no PKCS#11 module" in no_module.stderr
    monkeypatch.setenv("BKT_HSM_MODULE", str(hsm_token.module))
    monkeypatch.setenv("BKT_HSM_KEY_LABEL", "bma-{code}-g{generation}-{purpose}")
    made = run("keys", "create", "--hsm", "--institution", "1001")
    assert made.exit_code == 0, made.output
    assert "private keys in HSM token 'bkt-test'" in made.output
    refs = hsm.read_token_keys(tmp_path / "keys" / "1001" / "1")
    assert refs is not None and refs.pdf.label == "bma-1001-g1-pdf"
    assert not list((tmp_path / "keys").rglob("1001/**/*.key"))
    files = run("keys", "create", "--institution", "2001")  # without --hsm: file keys
    assert files.exit_code == 0 and (tmp_path / "keys" / "2001" / "1" / "pdf.key").exists()


def test_the_vc_export_is_signed_through_the_token(issued: tuple[Issuer, list[bytes]]) -> None:
    """The VC 2.0 export's ecdsa-rdfc-2019 proof, made by the token's credential key
    (only through ``key.sign``), verifies against the published DID document."""
    issuer, _ = issued
    files = sorted((issuer.settings.output_dir / "1001").glob("*.vc.json"))
    assert len(files) == 2
    did_document = json.loads(
        (issuer.settings.published_dir / ".well-known" / "did.json").read_text("utf-8"))
    for path in files:
        credential = json.loads(path.read_text("utf-8"))
        key = did_web.find_method(did_document, credential["proof"]["verificationMethod"])
        assert key is not None
        data_integrity.verify_proof(credential, key)
