"""Other members appear as "platform A", "platform B"…: stable within one report,
unrelated across reports (so letters cannot be matched up to learn who is who)."""

from __future__ import annotations

import hashlib
import string


def platform_labels(*, report_key: str, member_ids: set[int]) -> dict[int, str]:
    def order(member_id: int) -> str:
        return hashlib.sha256(f"{report_key}:{member_id}".encode()).hexdigest()

    labels = {}
    for index, member_id in enumerate(sorted(member_ids, key=order)):
        letters = string.ascii_uppercase
        label = letters[index % 26] + (str(index // 26) if index >= 26 else "")
        labels[member_id] = f"platform {label}"
    return labels
