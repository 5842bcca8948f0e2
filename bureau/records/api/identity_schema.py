"""OpenAPI for an identity number, per identity type, as
`bureau.records.identity.normalize_identity` accepts it (surrounding space is
trimmed, letters may be lower case). Check characters and birth dates cannot be
written as a pattern: the formats `resident-id` and `uscc` name those rules."""

from __future__ import annotations

from bureau.records.identity import ID_TYPES

ID_NUMBERS: dict[str, dict] = {
    "resident_id": {
        "format": "resident-id",
        "pattern": r"^\s*([0-9]{17}[0-9Xx]|[0-9]{15})\s*$",
        "description": "18 characters (GB 11643: a real birth date, ISO 7064 check "
        "character), or the 15 digits of an older card.",
    },
    "passport": {
        "pattern": r"^\s*[0-9A-Za-z]{5,20}\s*$",
        "description": "5-20 letters or digits.",
    },
    "uscc": {
        "format": "uscc",
        "pattern": r"^\s*[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}\s*$",
        "description": "18 characters (GB 32100, with its check character).",
    },
    "other": {
        # Any printable characters without spaces are taken; these surely are.
        "pattern": r"^\s*[!-~\u4e00-\u9fff]{1,64}\s*$",
        "description": "1-64 printable characters without spaces.",
    },
}
assert tuple(ID_NUMBERS) == ID_TYPES


def identity_variants() -> list[dict]:
    """`oneOf` branches of an object with `id_type` and `id_number`: the number's
    form depends on its type."""
    return [
        {
            "type": "object",
            "properties": {
                "id_type": {"type": "string", "enum": [id_type]},
                "id_number": {"type": "string", "maxLength": 64, **number},
            },
        }
        for id_type, number in ID_NUMBERS.items()
    ]
