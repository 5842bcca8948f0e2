"""Sharing one batch with one analyst of the same member.

Uploaders and member admins read all of their member's batches already; analysts
read none. A member admin may open one batch (and its rejected rows) to one analyst,
e.g. to investigate rejections with the data team, without widening the analyst's
role. The grant is a django-guardian object permission.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from bureau.audit.services import audit_record, redact_identity
from bureau.core.actors import ActorLike
from bureau.core.errors import ValidationFailed
from bureau.records.models import Batch
from members.models import Role, User
from members.object_permissions import grant_object_permissions

SHARE_PERMISSION = "records.view_batch"


def batch_share(*, batch: Batch, user: User, actor: ActorLike) -> None:
    """Let `user` (an active analyst of the batch's member) read `batch`."""
    if user.member_id is None or user.member_id != batch.member_id:
        raise ValidationFailed(
            errors={"username": [_("Batches are shared only within their member.")]}
        )
    if not user.is_active:
        raise ValidationFailed(errors={"username": [_("This user is deactivated.")]})
    if user.role != Role.ANALYST:
        # Uploaders and member admins see the member's batches anyway; a grant to
        # them would only linger, unnoticed, if their role were ever narrowed.
        raise ValidationFailed(
            errors={"username": [_("Only analysts need a batch shared with them.")]}
        )
    with transaction.atomic():
        grant_object_permissions(obj=batch, users=[user], perms=[SHARE_PERMISSION])
        audit_record(
            actor=actor,
            action="batch.share",
            obj=batch,
            member=batch.member_id,
            details={
                "user": user.pk,
                "username": redact_identity(user.get_username()),
                "permission": SHARE_PERMISSION,
            },
        )
