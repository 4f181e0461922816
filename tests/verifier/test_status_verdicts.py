"""Verdicts that give something to act on, through the JSON API (the page shows the same
checks): REVOKED says when and why, SUPERSEDED which version replaces it and how to get
it, and status that is not current says why it is not VALID."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from issuer.adapters.pki import Authority, InstitutionKeys
from issuer.adapters.publish import status_list_path
from tests.verifier.conftest import Documents, file_config, publish
from verifier.app import create_app


def verify(client: FlaskClient, credential: str) -> dict[str, Any]:
    response = client.post("/api/v1/verify", json={"credential": credential})
    assert response.status_code == 200
    return response.get_json()


def check(body: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in body["checks"] if c["id"] == cid)


def test_revoked_says_when_and_why(client: FlaskClient, documents: Documents) -> None:
    body = verify(client, documents.revoked.credential)
    assert body["result"] == "REVOKED"
    revoked = check(body, "not_revoked")
    assert revoked["status"] == "fail"
    assert revoked["message_en"] == (
        "This transcript has been revoked on 3 July 2026: issued in error")
    assert revoked["message_th"] == (
        "เอกสารฉบับนี้ถูกเพิกถอนแล้ว เมื่อ 3 กรกฎาคม พ.ศ. 2569 เหตุผล: ออกเอกสารโดยผิดพลาด")
    latest = check(body, "latest_version")
    assert latest["status"] == "pass"
    assert "latest version" not in latest["message_en"]  # it is revoked: nobody's latest
    assert body["data"]["status"] == {
        "state": "revoked", "date": "2026-07-03", "reason": "issued_in_error",
        "reason_th": "ออกเอกสารโดยผิดพลาด", "reason_en": "issued in error",
        "newer_version": None, "newer_date": None}


def test_superseded_names_the_newer_version(client: FlaskClient, documents: Documents) -> None:
    body = verify(client, documents.superseded.credential)
    assert body["result"] == "SUPERSEDED"
    latest = check(body, "latest_version")
    assert latest["status"] == "fail"
    assert latest["message_en"] == (
        "Version 2, issued on 4 July 2026, replaces this one: ask the school or the graduate "
        "for version 2")
    assert "ฉบับที่ 2 ซึ่งออกเมื่อ 4 กรกฎาคม พ.ศ. 2569" in latest["message_th"]
    assert body["data"]["status"]["newer_version"] == 2
    assert body["data"]["status"]["newer_date"] == "2026-07-04"
    # the version that replaced it is VALID and says nothing of the sort
    successor = verify(client, documents.successor.credential)
    assert successor["result"] == "VALID"
    assert check(successor, "latest_version")["message_en"] == "This is the latest version"
    assert "status" not in successor["data"]


def test_without_the_details_the_verdict_still_stands_and_says_what_is_missing(
    tmp_path: Path, published: Path, documents: Documents,
) -> None:
    directory = tmp_path / "pub"
    shutil.copytree(published, directory)
    status_list_path(directory, "1001", "details").unlink()
    client = create_app(file_config(directory)).test_client()
    body = verify(client, documents.revoked.credential)
    assert body["result"] == "REVOKED"
    assert "could not be had from the issuer" in check(body, "not_revoked")["message_en"]
    body = verify(client, documents.superseded.credential)
    assert body["result"] == "SUPERSEDED"
    assert "ask the school or the graduate" in check(body, "latest_version")["message_en"]


def test_stale_status_is_indeterminate_with_its_reason_in_the_api(
    tmp_path: Path, authority: Authority, school_keys: InstitutionKeys,
    training_keys: InstitutionKeys, documents: Documents,
) -> None:
    directory = publish(tmp_path / "pub", authority, [school_keys, training_keys],
                        datetime.now(UTC) - timedelta(hours=13))
    client = create_app(file_config(directory)).test_client()
    body = verify(client, documents.school.credential)
    assert body["result"] == "INDETERMINATE"
    not_revoked = check(body, "not_revoked")
    assert not_revoked["status"] == "indeterminate"
    assert not_revoked["message_en"].startswith(
        "Cannot confirm that the transcript is not revoked: the status list was signed at ")
    assert "older than the 12 h allowed" in not_revoked["message_en"]
    assert "เก่ากว่า 12 ชั่วโมง" in not_revoked["message_th"]
    # the maximum age is a setting (BKT_VERIFIER_STATUS_MAX_AGE)
    import dataclasses

    config = dataclasses.replace(file_config(directory), status_max_age=24 * 3600.0)
    assert verify(create_app(config).test_client(), documents.school.credential)[
        "result"] == "VALID"
