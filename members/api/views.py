from collections.abc import Callable

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from bureau.core.errors import NotFound, ValidationFailed
from bureau.core.permissions import ANY_SCOPE, RoleOrScope
from bureau.core.roles import BUREAU_ROLES, DECISION_ROLES, MEMBER_ADMINS, MEMBER_ROLES
from members.api.serializers import (
    ApiKeyCreatedOutput,
    ApiKeyCreateInput,
    ApiKeyOutput,
    MemberMeOutput,
    MemberStaffOutput,
    MemberStatusInput,
)
from members.models import ApiKey, Member
from members.permissions import actor_member
from members.selectors import api_keys_of_member, member_usage, members_list
from members.services import (
    api_key_create,
    api_key_revoke,
    api_key_rotate,
    member_reinstate,
    member_suspend,
)


class MemberListView(GenericAPIView):
    """Bureau staff list the member platforms, optionally by status."""

    permission_classes = [RoleOrScope]
    roles = {"GET": BUREAU_ROLES}
    no_key_reason = "Member platforms are bureau business; no key scope grants it."

    @extend_schema(
        parameters=[OpenApiParameter("status", enum=Member.Status.values)],
        responses=MemberStaffOutput(many=True),
    )
    def get(self, request):
        status_filter = request.query_params.get("status")  # given empty: refused
        if status_filter not in (None, *Member.Status.values):
            raise ValidationFailed(
                errors={
                    "status": [
                        _("One of: %(choices)s.")
                        % {"choices": ", ".join(Member.Status.values)}
                    ]
                }
            )
        page = self.paginate_queryset(members_list(status=status_filter))
        return self.get_paginated_response(MemberStaffOutput(page, many=True).data)


def _created(key: ApiKey, full_key: str) -> dict:
    """ApiKeyCreatedOutput's body: the key's fields and its full text, which is in
    no column and shown this once."""
    return {**ApiKeyOutput(key).data, "key": full_key}


class _MemberStatusView(APIView):
    permission_classes = [RoleOrScope]
    # Suspensions are compliance decisions; bureau admins may act too.
    roles = {"POST": DECISION_ROLES}
    no_key_reason = "Suspensions are compliance decisions made by people."
    service: Callable[..., Member]  # member_suspend or member_reinstate

    @extend_schema(request=MemberStatusInput, responses=MemberStaffOutput)
    def post(self, request, code: str):
        data = MemberStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        member = get_object_or_404(Member, code=code)
        member = type(self).service(
            member=member, reason=data.validated_data["reason"], actor=request.user
        )
        return Response(MemberStaffOutput(member).data)


class MemberSuspendView(_MemberStatusView):
    """Suspend a member: its users and keys are refused from the next request.
    Idempotent: suspending a suspended member changes nothing."""

    service = staticmethod(member_suspend)


class MemberReinstateView(_MemberStatusView):
    """Lift a member's suspension. Idempotent."""

    service = staticmethod(member_reinstate)


class MemberMeView(APIView):
    """The caller's own member platform and its usage."""

    permission_classes = [RoleOrScope]
    roles = {"GET": MEMBER_ROLES}
    scopes = {"GET": ANY_SCOPE}

    @extend_schema(responses=MemberMeOutput)
    def get(self, request):
        member = actor_member(request)
        if member is None:
            raise NotFound(_("Bureau staff do not belong to a member platform."))
        body = {"member": member, "usage": member_usage(member=member)}
        return Response(MemberMeOutput(body).data)


class ApiKeyListCreateView(GenericAPIView):
    """A member admin lists and issues the member's API keys."""

    permission_classes = [RoleOrScope]
    roles = {"GET": MEMBER_ADMINS, "POST": MEMBER_ADMINS}
    no_key_reason = "A key must not mint or list keys: only a member admin may."

    @extend_schema(responses=ApiKeyOutput(many=True))
    def get(self, request):
        keys = api_keys_of_member(member=actor_member(request))
        page = self.paginate_queryset(keys)
        return self.get_paginated_response(ApiKeyOutput(page, many=True).data)

    @extend_schema(request=ApiKeyCreateInput, responses={201: ApiKeyCreatedOutput})
    def post(self, request):
        data = ApiKeyCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        key, full_key = api_key_create(
            member=actor_member(request), actor=request.user, **data.validated_data
        )
        return Response(_created(key, full_key), status=status.HTTP_201_CREATED)


class ApiKeyDetailView(APIView):
    """Read or revoke one key of the caller's member."""

    permission_classes = [RoleOrScope]
    roles = {"GET": MEMBER_ADMINS, "DELETE": MEMBER_ADMINS}
    no_key_reason = "A key must not read or revoke keys: only a member admin may."

    def _get_key(self, request, key_id: int):
        return get_object_or_404(
            api_keys_of_member(member=actor_member(request)), pk=key_id
        )

    @extend_schema(responses=ApiKeyOutput)
    def get(self, request, key_id: int):
        return Response(ApiKeyOutput(self._get_key(request, key_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, key_id: int):
        api_key_revoke(key=self._get_key(request, key_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiKeyRotateView(APIView):
    """Issue a successor of one of the member's keys; the old key keeps working
    for `BUREAU_KEY_ROTATION_OVERLAP_HOURS`, then expires."""

    permission_classes = [RoleOrScope]
    roles = {"POST": MEMBER_ADMINS}
    no_key_reason = "A key must not mint its own successor: only a member admin may."

    @extend_schema(request=None, responses={201: ApiKeyCreatedOutput})
    def post(self, request, key_id: int):
        key = get_object_or_404(
            api_keys_of_member(member=actor_member(request)), pk=key_id
        )
        new, full_key = api_key_rotate(key=key, actor=request.user)
        return Response(_created(new, full_key), status=status.HTTP_201_CREATED)
