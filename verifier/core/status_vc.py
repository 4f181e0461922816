"""Our status lists as W3C ``BitstringStatusListCredential``s secured with Data Integrity
(``ecdsa-rdfc-2019``), for the VC 2.0 export (`verifier.core.open_badge`).

The same bits as the JWS lists (`verifier.core.status_credential`): one credential per
institution and purpose, ``revocation`` and ``refresh`` (superseded), published at
``{base}/status/<code>/<purpose>.vc.json`` and re-signed with them. A transcript's
``credentialStatus`` names both with ``statusListIndex`` = its ``status_index``::

    {"id": "{base}/status/1001/revocation.vc.json#4711",
     "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
     "statusListIndex": "4711",
     "statusListCredential": "{base}/status/1001/revocation.vc.json"}
"""

from __future__ import annotations

from typing import Any

from verifier.core import status_list as sl
from verifier.core.jsonld import BKT_V1, VC_V2
from verifier.core.status_credential import PURPOSES, StatusList, iso_time

TYPES = ["VerifiableCredential", "BitstringStatusListCredential"]


def list_url(base_url: str, institution: str, purpose: str) -> str:
    return f"{base_url.rstrip('/')}/status/{institution}/{purpose}.vc.json"


def entries(base_url: str, institution: str, index: int) -> list[dict[str, Any]]:
    """The ``credentialStatus`` of the transcript version at `index`: both purposes."""
    return [{"id": f"{list_url(base_url, institution, purpose)}#{index}",
             "type": "BitstringStatusListEntry", "statusPurpose": purpose,
             "statusListIndex": str(index),
             "statusListCredential": list_url(base_url, institution, purpose)}
            for purpose in PURPOSES]


def credential(status: StatusList, *, did: str, base_url: str) -> dict[str, Any]:
    """The unsigned status list credential of `status`, issued by `did`. ``sequence``
    (our context) numbers it as the JWS lists are numbered."""
    url = list_url(base_url, status.institution, status.purpose)
    return {
        "@context": [VC_V2, BKT_V1],
        "id": url,
        "type": list(TYPES),
        "issuer": did,
        "validFrom": iso_time(status.valid_from),
        "validUntil": iso_time(status.valid_until),
        "sequence": status.sequence,
        "credentialSubject": {
            "id": url + "#list",
            "type": "BitstringStatusList",
            "statusPurpose": status.purpose,
            "encodedList": sl.encode(status.bits),
            "ttl": status.ttl_seconds * 1000,
        },
    }
