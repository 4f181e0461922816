"""The OpenAPI 3.1 description of the verifier's JSON API (served at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

STATUSES = ["pass", "fail", "warn", "indeterminate", "skipped"]
RESULTS = ["VALID", "INVALID", "REVOKED", "SUPERSEDED", "UNTRUSTED", "INDETERMINATE"]


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def document() -> dict[str, Any]:
    names = {"type": "object", "properties": {
        "code": {"type": ["string", "null"]},
        "name_th": {"type": ["string", "null"]},
        "name_en": {"type": ["string", "null"]},
    }}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Bangkok Transcripts verifier",
            "version": "1.0.0",
            "description": (
                "Verify a BMA transcript from its PDF, a picture of its QR code or the QR "
                "credential (`BKT1:<digits>` or a compact JWS, or the QR's URL "
                "`…/V#BKT1:…`), or a graduate's SD-JWT VC presentation (selective "
                "disclosure: `<JWT>~<disclosure>~…~`, or its link `…/sd#<JWT>~…`), whose "
                "`data` holds only what the graduate disclosed and says what was "
                "withheld. Every check is "
                "listed with Thai and English messages; `result` is the overall verdict and "
                "`summary` says what it proves: a QR credential (or a picture of it) proves "
                "the credential, not the paper, so compare `data` with the paper; a PDF "
                "proves the file. Requests are rate-limited per client (429 with "
                "Retry-After); pictures are decoded a few at a time (503 with Retry-After)."
            ),
        },
        "paths": {
            "/api/v1/verify": {
                "post": {
                    "operationId": "verify",
                    "summary": "Verify a transcript PDF, a QR picture, a QR credential or "
                               "a transcript's VC 2.0 export",
                    "parameters": [{
                        "name": "at", "in": "query", "required": False,
                        "description": "For a PDF: judge its signature's long-term validity "
                                       "as of this time (ISO 8601 with a zone) instead of "
                                       "now, e.g. 2040-01-01T00:00Z",
                        "schema": {"type": "string", "format": "date-time"},
                    }],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {
                                "type": "object", "required": ["credential"],
                                "properties": {"credential": {
                                    "type": "string", "maxLength": 131072,
                                    "description": "The QR credential (BKT1:… or compact "
                                    "JWS, at most 8192 characters) or the QR's URL; or an "
                                    "SD-JWT VC presentation or its /sd# link"}},
                            }},
                            "multipart/form-data": {"schema": {
                                "type": "object",
                                "properties": {
                                    "file": {"type": "string", "format": "binary",
                                             "description": "The signed transcript PDF"},
                                    "image": {"type": "string", "format": "binary",
                                              "description": "Photo or screenshot of the QR"},
                                    "credential": {"type": "string"},
                                },
                            }},
                            "application/x-www-form-urlencoded": {"schema": {
                                "type": "object", "required": ["credential"],
                                "properties": {"credential": {"type": "string"}},
                            }},
                            "application/pdf": {"schema": {"type": "string",
                                                           "format": "binary"}},
                            "application/vc": {"schema": {
                                "type": "object",
                                "description": "A transcript's W3C VC 2.0 export (.vc.json: "
                                               "an Open Badges 3.0 credential, "
                                               "ecdsa-rdfc-2019); also as "
                                               "application/vc+ld+json or a `file` upload"}},
                        },
                    },
                    "responses": {
                        "200": {"description": "The verdict",
                                "content": {"application/json": {
                                    "schema": {"$ref": "#/components/schemas/Verdict"}}}},
                        "400": _error("Malformed JSON or no input"),
                        "413": _error("Upload larger than 10 MB, or a picture over 8 MB or "
                                      "50 megapixels"),
                        "415": _error("Not a PDF, not a picture, not a transcript's VC, or an "
                                      "unsupported type"),
                        "422": _error("Encrypted, unsigned or unreadable PDF; no QR found"),
                        "429": _error("Too many requests from this client"),
                        "503": _error("Verifier not configured, QR decoding unavailable, or "
                                      "every picture-decoding slot busy (Retry-After)"),
                    },
                },
            },
        },
        "components": {"schemas": {
            "Check": {
                "type": "object",
                "required": ["id", "status", "message_th", "message_en"],
                "properties": {
                    "id": {"type": "string", "examples": ["pdf_signature", "not_revoked"]},
                    "status": {"type": "string", "enum": STATUSES},
                    "message_th": {"type": "string"},
                    "message_en": {"type": "string"},
                },
            },
            "Verdict": {
                "type": "object",
                "required": ["result", "checks", "data"],
                "properties": {
                    "result": {"type": "string", "enum": RESULTS},
                    "summary": {
                        "type": "object",
                        "description": "The verdict in one sentence that claims no more than "
                                       "was proven, and what to compare with the paper",
                        "properties": {
                            "scope": {"type": "string",
                                      "enum": ["credential", "pdf", "sd-jwt-vc", "vc"]},
                            "th": {"type": "string"}, "en": {"type": "string"},
                            "compare_th": {"type": "string"},
                            "compare_en": {"type": "string"},
                        },
                    },
                    "checks": {"type": "array",
                               "items": {"$ref": "#/components/schemas/Check"}},
                    "data": {
                        "type": "object",
                        "description": "The signed data, empty unless the credential verified",
                        "properties": {
                            "transcript_id": {"type": "string"},
                            "version": {"type": "integer"},
                            "institution": names,
                            "student": {"type": "object", "properties": {
                                "name_th": {"type": ["string", "null"]},
                                "name_en": {"type": ["string", "null"]}}},
                            "programme": names,
                            "gpa": {"type": ["string", "null"]},
                            "graduation_date": {"type": ["string", "null"], "format": "date"},
                            "graduation_date_th": {"type": ["string", "null"]},
                            "graduation_date_en": {"type": ["string", "null"]},
                            "issued_at": {"type": "string", "format": "date-time"},
                            "verification_code": {
                                "type": ["string", "null"],
                                "description": "The code printed under the QR (ABCD-EFGH)"},
                            "source": {"type": "string",
                                       "enum": ["pdf", "credential", "sd-jwt-vc", "vc"]},
                            "format": {"type": "string", "enum": ["sd-jwt-vc"],
                                       "description": "Present for an SD-JWT VC only"},
                            "kind": {"type": "string", "enum": ["school", "vocational"]},
                            "disclosed": {
                                "type": "object",
                                "description": "SD-JWT VC: exactly the disclosed claims "
                                "(name, programme, graduation_date, gpa, terms[], courses[] "
                                "or modules[]); a field not disclosed is absent",
                            },
                            "withheld": {
                                "type": "object",
                                "description": "SD-JWT VC: the fields not disclosed, and "
                                "how many terms, courses or modules were not disclosed",
                                "properties": {
                                    "fields": {"type": "array", "items": {"type": "string"}},
                                    "terms": {"type": "integer"},
                                    "courses": {"type": "integer"},
                                    "modules": {"type": "integer"},
                                },
                            },
                            "withheld_th": {"type": "array", "items": {"type": "string"}},
                            "withheld_en": {"type": "array", "items": {"type": "string"}},
                            "status": {
                                "type": "object",
                                "description": "When the version was revoked or superseded: "
                                "the issuer's signed status details (absent otherwise)",
                                "properties": {
                                    "state": {"type": "string",
                                              "enum": ["revoked", "superseded"]},
                                    "date": {"type": ["string", "null"], "format": "date"},
                                    "reason": {"type": ["string", "null"], "examples": [
                                        "issued_in_error", "incorrect_data",
                                        "award_withdrawn", "unspecified"]},
                                    "reason_th": {"type": ["string", "null"]},
                                    "reason_en": {"type": ["string", "null"]},
                                    "newer_version": {"type": ["integer", "null"]},
                                    "newer_date": {"type": ["string", "null"],
                                                   "format": "date"},
                                },
                            },
                        },
                    },
                },
            },
            "Error": {
                "type": "object",
                "required": ["error", "message_en", "message_th"],
                "properties": {
                    "error": {"type": "string", "examples": ["not_pdf", "encrypted_pdf"]},
                    "message_en": {"type": "string"},
                    "message_th": {"type": "string"},
                },
            },
        }},
    }
