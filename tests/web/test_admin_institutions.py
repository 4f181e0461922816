"""A BMA administrator creates an institution on the web with its full address."""

from __future__ import annotations

from flask import Flask

from issuer.adapters import repositories as repo
from issuer.services.context import Issuer
from tests.web.conftest import as_user


def test_the_form_takes_the_subdistrict_province_and_affiliation(app: Flask,
                                                                 web_issuer: Issuer) -> None:
    admin = as_user(app, "admin")
    form = admin.get("/admin/institutions").get_data(as_text=True)
    for field in ("subdistrict_th", "subdistrict_en", "province_th", "affiliation_th"):
        assert f'name="{field}"' in form
    response = admin.post("/admin/institutions", {
        "code": "3001", "kind": "school", "name_th": "โรงเรียนวัดหนองแขม",
        "name_en": "Wat Nong Khaem School", "district_th": "เขตหนองแขม",
        "district_en": "Nong Khaem", "subdistrict_th": "แขวงหนองค้างพลู",
        "subdistrict_en": "Nong Khang Phlu", "province_th": "", "affiliation_th": " ",
    })
    assert response.status_code == 302
    with web_issuer.uow() as uow:
        made = repo.to_institution(uow.institutions.get("3001"))
    assert (made.subdistrict_th, made.subdistrict_en) == ("แขวงหนองค้างพลู", "Nong Khang Phlu")
    # Left blank: the BMA defaults, as an institutions file without them gets.
    assert (made.province_th, made.affiliation_th) == ("กรุงเทพมหานคร", "สำนักการศึกษา กรุงเทพมหานคร")


def test_a_formula_in_an_address_is_refused(app: Flask, web_issuer: Issuer) -> None:
    admin = as_user(app, "admin")
    admin.post("/admin/institutions", {
        "code": "3002", "kind": "school", "name_th": "โรงเรียนวัดหนองแขม",
        "name_en": "Wat Nong Khaem School", "subdistrict_en": "=HYPERLINK(\"x\")"})
    with web_issuer.uow() as uow:
        assert uow.institutions.get("3002") is None
