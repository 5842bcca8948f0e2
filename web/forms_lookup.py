"""The lookup form: what a person is looked up by, and why.

The form checks only the shape of the input; the query service decides (purpose
rules, consent, identity checksums) and its ValidationFailed errors are put back
on the fields here. No error message ever contains the typed id number.
"""

from __future__ import annotations

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bureau.audit.services import IDENTITY_REFUSED
from bureau.records.identity import ID_TYPES
from reports.services.query import QueryInput
from reports.services.terms import CONSENT_MAX, purposes_allowed
from reports.templatetags.report_tags import ID_TYPES as ID_TYPE_LABELS
from reports.templatetags.report_tags import PURPOSES as PURPOSE_LABELS

# The service's messages (reports/services/terms.py and query.py,
# bureau/records/identity.py), in the site's words. The service sends them in the
# active language: they are found by their translation (or their English, before
# the service made one). Any other message is shown as sent.
SERVICE_MESSAGES = {
    "Only compliance staff may use this purpose.": _(
        "Only compliance staff may use this purpose."
    ),
    "A consent reference is required for this purpose.": _(
        "A consent reference is required for this purpose."
    ),
    "Give the person's name (1–100 characters).": _(
        "Give the person's name (1–100 characters)."
    ),
    IDENTITY_REFUSED: _(
        "Must not contain an identity number or phone: give the reference of the "
        "signed consent."
    ),
    "Identity number is required.": _("Give the ID number."),
    "Resident id must be 18 characters (17 digits and a digit or X).": _(
        "A resident ID has 18 characters: 17 digits and a digit or X."
    ),
    "Resident id contains an impossible birth date.": _(
        "This resident ID contains an impossible birth date."
    ),
    "Resident id check character is wrong.": _(
        "This resident ID's check character is wrong: check the digits."
    ),
    "Legacy resident id must be 15 digits.": _(
        "A 15-character resident ID must be all digits."
    ),
    "Credit code must be 18 characters of digits and capital letters.": _(
        "A unified social credit code has 18 digits and capital letters."
    ),
    "Credit code check character is wrong.": _(
        "This credit code's check character is wrong: check the characters."
    ),
    "Credit code contains a character outside its alphabet.": _(
        "This credit code contains a character that credit codes never use."
    ),
    "Passport number must be 5-20 letters or digits.": _(
        "A passport number has 5–20 letters or digits."
    ),
    "Identity number must be 1-64 printable characters without spaces.": _(
        "The ID number must be 1–64 characters without spaces."
    ),
}


def allowed_purposes(user) -> list[tuple[str, str | Promise]]:
    """The purposes this user may state, labelled (reports/services/terms.py
    decides which: the service checks the same)."""
    return [
        (value, PURPOSE_LABELS.get(value, value))
        for value in purposes_allowed(actor=user)
    ]


class LookupForm(forms.Form):
    id_type = forms.ChoiceField(
        label=_("ID type"),
        choices=[(value, ID_TYPE_LABELS.get(value, value)) for value in ID_TYPES],
        initial="resident_id",
        error_messages={"invalid_choice": _("Choose an ID type from the list.")},
    )
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=64,
        error_messages={"required": _("Give the ID number.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "class": "mono"}
        ),
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("As on the ID document; it must match the name on file."),
        error_messages={"required": _("Give the person's name (1–100 characters).")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    purpose = forms.ChoiceField(
        label=_("Purpose"),
        error_messages={
            "required": _("Choose the purpose of this lookup."),
            "invalid_choice": _("Choose a purpose from the list."),
        },
    )
    consent_reference = forms.CharField(
        label=_("Consent reference"),
        required=False,
        max_length=CONSENT_MAX,
        help_text=_(
            "The reference of the person's signed consent. Required, except for "
            "self inquiries and dispute handling by compliance staff."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        purposes = allowed_purposes(user)
        self.fields["purpose"].choices = [("", _("Choose a purpose…")), *purposes]

    def query_input(self) -> QueryInput:
        data = self.cleaned_data
        return QueryInput(
            id_type=data["id_type"],
            id_number=data["id_number"],
            name=data["name"],
            purpose=data["purpose"],
            consent_reference=data["consent_reference"],
        )

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Put the service's ValidationFailed errors on their fields (unknown keys
        become errors of the whole form)."""
        wording = {gettext(english): text for english, text in SERVICE_MESSAGES.items()}
        for key, messages in errors.items():
            field = key if key in self.fields else None
            for message in messages:
                text = wording.get(message, SERVICE_MESSAGES.get(message))
                self.add_error(field, text if text is not None else gettext(message))
