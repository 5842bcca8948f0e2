"""System checks: the audit trail's keys are configured (run by `migrate`,
`check`, `runserver`; a deploy stops at `migrate` instead of failing on the first
audited request)."""

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from bureau.audit.keys import chain_keys, checkpoint_keys


@register()
def audit_keys_configured(app_configs, **kwargs):
    errors = []
    try:
        chain_keys()
    except ImproperlyConfigured as error:
        errors.append(Error(str(error), id="bureau_audit.E001"))
    try:
        signing = checkpoint_keys().private
    except ImproperlyConfigured as error:
        errors.append(Error(str(error), id="bureau_audit.E002"))
    else:
        if signing is None:
            errors.append(
                Error(
                    "BUREAU_AUDIT_CHECKPOINT_KEY is not set: audit checkpoints "
                    "cannot be signed.",
                    hint="manage.py audit_keygen makes one; docs/operations.md "
                    "'Audit trail keys'.",
                    id="bureau_audit.E002",
                )
            )
    return errors
