"""Logins, logouts and failed logins go to the audit trail."""

from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.dispatch import receiver

from bureau.audit.services import audit_record, redact_identity


@receiver(user_logged_in, dispatch_uid="audit_login")
def _audit_login(sender, request, user, **kwargs):
    audit_record(actor=user, action="auth.login")


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, action="auth.logout")


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _audit_login_failed(sender, credentials, request=None, **kwargs):
    # credentials are already cleansed of the password by Django.
    username = redact_identity(str(credentials.get("username", ""))[:150])
    audit_record(actor=None, action="auth.login_failed", details={"username": username})
