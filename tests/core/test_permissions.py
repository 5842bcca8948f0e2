"""RoleOrScope reads who may call a view from the view's per-method declarations.

Alice is Acme's member admin, Bob her analyst teammate, Ursula Acme's uploader.
The notes endpoint lets analysts and admins read, only admins write, and `query`
keys read.
"""

from __future__ import annotations

import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from bureau.core.permissions import RoleOrScope
from bureau.core.roles import MEMBER_ADMINS, SCREENERS
from members.principals import KeyPrincipal
from tests.factories import UserFactory, issue_key

pytestmark = pytest.mark.django_db


class Notes(APIView):
    permission_classes = [RoleOrScope]
    roles = {"GET": SCREENERS, "POST": MEMBER_ADMINS}
    scopes = {"GET": "query"}
    no_key_reason = "Notes are written by people."

    def get(self, request):
        return Response({"notes": []})

    def post(self, request):
        return Response({}, status=201)

    def delete(self, request):  # implemented, never declared
        return Response(status=204)


class Archive(APIView):
    """A view without GET: asking about it follows its one write."""

    permission_classes = [RoleOrScope]
    roles = {"POST": MEMBER_ADMINS}
    no_key_reason = "People only."

    def post(self, request):
        return Response({}, status=201)


@pytest.fixture
def ursula(acme):
    """Ursula uploads Acme's batches; she neither reads nor writes notes."""
    return UserFactory(username="ursula", role="uploader", member=acme)


def call(view: type[APIView], method: str, caller):
    request = getattr(APIRequestFactory(), method.lower())("/notes/")
    force_authenticate(request, user=caller)
    return view.as_view()(request)


def test_method_when_roles_are_declared_admits_only_its_roles(alice, bob):
    assert call(Notes, "GET", bob).status_code == 200
    assert call(Notes, "POST", bob).status_code == 403
    assert call(Notes, "POST", alice).status_code == 201


def test_key_when_the_method_declares_its_scope_is_admitted(acme):
    key, _ = issue_key(acme, scopes=("query",))
    assert call(Notes, "GET", KeyPrincipal(key)).status_code == 200


def test_key_when_the_method_declares_no_scope_is_refused(acme):
    key, _ = issue_key(acme, scopes=("query",))
    response = call(Notes, "POST", KeyPrincipal(key))
    assert response.status_code == 403
    assert response.data["code"] == "permission_denied"


def test_key_when_lacking_the_methods_scope_is_refused_scope_missing(acme):
    key, _ = issue_key(acme, scopes=("upload",))
    response = call(Notes, "GET", KeyPrincipal(key))
    assert response.status_code == 403
    assert response.data["code"] == "scope_missing"


def test_head_and_options_when_asked_follow_the_get_roles(bob, ursula):
    assert call(Notes, "OPTIONS", bob).status_code == 200
    assert call(Notes, "HEAD", bob).status_code == 200
    assert call(Notes, "OPTIONS", ursula).status_code == 403
    assert call(Notes, "HEAD", ursula).status_code == 403


def test_options_when_the_view_has_no_get_follows_its_write(alice, bob):
    assert call(Archive, "OPTIONS", alice).status_code == 200
    assert call(Archive, "OPTIONS", bob).status_code == 403


def test_missing_method_when_the_caller_may_read_answers_405(bob, ursula):
    assert call(Notes, "PUT", bob).status_code == 405
    assert call(Notes, "PUT", ursula).status_code == 403


def test_implemented_method_when_undeclared_is_refused_to_everyone(alice, bob):
    assert call(Notes, "DELETE", alice).status_code == 403
    assert call(Notes, "DELETE", bob).status_code == 403
