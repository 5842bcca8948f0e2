"""Forms of the member admin's pages: issuing an API key."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from members.models import ApiKey

# Our own labels: the model's choice labels are not marked for translation.
SCOPE_LABELS: dict[str, str | Promise] = {
    ApiKey.Scope.UPLOAD: _("Upload records"),
    ApiKey.Scope.QUERY: _("Query profiles"),
    ApiKey.Scope.MONITOR: _("Monitor (watches, webhooks)"),
}
MAX_EXPIRY_DAYS = 3650


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Key name"),
        max_length=100,
        help_text=_("Which system uses the key, e.g. “loan book nightly upload”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=list(SCOPE_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Give a key only what its system needs."),
    )
    expires_in_days = forms.IntegerField(
        label=_("Expires in (days)"),
        required=False,
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        help_text=_("Leave empty for a key that does not expire."),
    )
    allowed_networks = forms.CharField(
        label=_("Allowed networks"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Optional: one CIDR network a line, e.g. 203.0.113.0/24. "
            "Empty = usable from anywhere."
        ),
    )

    # A service refusal names the service's field; show it on ours.
    SERVICE_FIELDS = {"expires_at": "expires_in_days"}

    def clean_allowed_networks(self) -> list[str]:
        text = self.cleaned_data["allowed_networks"]
        return [part for part in text.replace(",", "\n").split() if part]

    def service_kwargs(self) -> dict:
        """Arguments for members.services.api_key_create."""
        days = self.cleaned_data["expires_in_days"]
        return {
            "name": self.cleaned_data["name"],
            "scopes": self.cleaned_data["scopes"],
            "expires_at": timezone.now() + timedelta(days=days) if days else None,
            "allowed_networks": self.cleaned_data["allowed_networks"],
        }

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for field, messages in errors.items():
            name = self.SERVICE_FIELDS.get(field, field)
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
