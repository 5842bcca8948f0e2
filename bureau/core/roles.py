"""The roles of logged-in users and the named groups of them, in one place.

Every layer decides who may do what with these names: the API views' declarations
(bureau/core/permissions.py), the web pages' `role_required`, the user model's
choices and constraint (members/models.py). They live at the bottom layer so that
audit, records and reports need not import members to name a role.
docs/permissions.md explains why each group is what it is.
"""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    MEMBER_ADMIN = "member_admin", "Member admin"
    UPLOADER = "uploader", "Uploader"
    ANALYST = "analyst", "Analyst"
    BUREAU_ADMIN = "bureau_admin", "Bureau admin"
    COMPLIANCE = "compliance", "Compliance"
    AUDITOR = "auditor", "Auditor"


# Who a user works for: member staff belong to a member, bureau staff to none.
MEMBER_ROLES = frozenset({Role.MEMBER_ADMIN, Role.UPLOADER, Role.ANALYST})
BUREAU_ROLES = frozenset({Role.BUREAU_ADMIN, Role.COMPLIANCE, Role.AUDITOR})

MEMBER_ADMINS = frozenset({Role.MEMBER_ADMIN})
COMPLIANCE = frozenset({Role.COMPLIANCE})

# Furnishing: upload batches and answer the disputes on them.
FURNISHER_ROLES = frozenset({Role.UPLOADER, Role.MEMBER_ADMIN})
# Looking a person up; compliance queries to handle disputes.
QUERY_ROLES = frozenset(
    {Role.ANALYST, Role.MEMBER_ADMIN, Role.COMPLIANCE, Role.BUREAU_ADMIN}
)
# Reading answered reports: whoever may query, and the auditor.
REPORT_READER_ROLES = QUERY_ROLES | {Role.AUDITOR}
# A member's inquiries (its usage): not compliance, which has its own endpoints.
INQUIRY_READERS = frozenset(
    {Role.MEMBER_ADMIN, Role.ANALYST, Role.AUDITOR, Role.BUREAU_ADMIN}
)
# Screenings, watches: a member's own working objects.
SCREENERS = frozenset({Role.ANALYST, Role.MEMBER_ADMIN})
WATCHERS = SCREENERS
# Batches by role; an analyst reads one only when a member admin shared it.
BATCH_READERS = FURNISHER_ROLES | {Role.BUREAU_ADMIN, Role.AUDITOR}
SHARED_BATCH_READERS = BATCH_READERS | {Role.ANALYST}
# Disputes: bureau staff read them all, the furnisher its own; compliance
# withdraws where the furnisher corrects or confirms.
DISPUTE_READERS = BUREAU_ROLES | FURNISHER_ROLES
DISPUTE_ANSWERERS = FURNISHER_ROLES | COMPLIANCE
# Bureau decisions (suspensions, handling alerts): compliance, and bureau admins.
DECISION_ROLES = frozenset({Role.COMPLIANCE, Role.BUREAU_ADMIN})
# The audit trail: auditors and bureau admins.
TRAIL_READERS = frozenset({Role.AUDITOR, Role.BUREAU_ADMIN})
