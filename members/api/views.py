from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from bureau.core.errors import NotFound
from members.api.serializers import (
    ApiKeyCreatedOutput,
    ApiKeyCreateInput,
    ApiKeyOutput,
    MemberMeOutput,
)
from members.models import Role
from members.permissions import ANY_SCOPE, RoleOrScope, actor_member
from members.selectors import api_keys_of_member, member_usage
from members.services import api_key_create, api_key_revoke

MEMBER_STAFF = (Role.MEMBER_ADMIN, Role.UPLOADER, Role.ANALYST)


class MemberMeView(APIView):
    """The caller's own member platform and its usage."""

    permission_classes = [RoleOrScope]
    allowed_roles = MEMBER_STAFF
    required_scope = ANY_SCOPE

    @extend_schema(responses=MemberMeOutput)
    def get(self, request):
        member = actor_member(request)
        if member is None:
            raise NotFound("Bureau staff do not belong to a member platform.")
        body = {"member": member, "usage": member_usage(member=member)}
        return Response(MemberMeOutput(body).data)


class ApiKeyListCreateView(GenericAPIView):
    """A member admin lists and issues the member's API keys."""

    permission_classes = [RoleOrScope]
    allowed_roles = (Role.MEMBER_ADMIN,)
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
        key.key = full_key
        return Response(ApiKeyCreatedOutput(key).data, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(APIView):
    """Read or revoke one key of the caller's member."""

    permission_classes = [RoleOrScope]
    allowed_roles = (Role.MEMBER_ADMIN,)
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
