"""The registrar chooses what verifiers are told of a revocation (a reason code); their
own words stay in the issuer."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from issuer.adapters.publish import status_list_path
from issuer.services.context import Issuer
from tests.e2e.conftest import issue_file, only_students
from tests.web.conftest import as_user
from verifier.core.canonical import b64url_decode


def test_the_public_reason_is_chosen_and_published(web_issuer: Issuer, app: Flask) -> None:
    _, report = issue_file(web_issuer, "1001", "school-batch.csv",
                           only_students("school-batch.csv", "66001", "66002"))
    first, second = (Path(p).name.split("-v")[0] for p in report.issued[:2])
    registrar = as_user(app, "reg1001")
    page = registrar.get(f"/transcripts/{first}").get_data(as_text=True)
    assert 'name="reason_code"' in page and 'value="incorrect_data"' in page
    assert "ข้อมูลในเอกสารไม่ถูกต้อง · the data on it is incorrect" in page

    unknown = registrar.post(f"/transcripts/{first}/revoke",
                             {"reason": "typo", "reason_code": "gossip"}, follow_redirects=True)
    assert "ไม่รู้จักเหตุผลสาธารณะ" in unknown.get_data(as_text=True)  # in Thai
    response = registrar.post(f"/transcripts/{first}/revoke",
                              {"reason": "Somchai's grades were entered for her",
                               "reason_code": "incorrect_data"})
    assert response.status_code == 302
    registrar.post(f"/transcripts/{second}/revoke", {"reason": "withdrawn"})  # no code chosen
    with web_issuer.uow() as uow:
        codes = {tid: uow.transcripts.get(tid, 1).status_reason_code  # type: ignore[union-attr]
                 for tid in (first, second)}
    assert codes == {first: "incorrect_data", second: "unspecified"}
    token = status_list_path(web_issuer.settings.published_dir, "1001", "details").read_text()
    payload = b64url_decode(token.split(".")[1]).decode()
    assert '"reason":"incorrect_data"' in payload and '"reason":"unspecified"' in payload
    assert "Somchai" not in payload and "withdrawn" not in payload
