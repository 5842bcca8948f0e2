"""Look up a person (the query service) and read the profile it answered.

The views only translate between HTTP and the services: reports/services/query.py
decides and records the inquiry; the profile page shows the report stored on the
inquiry, read and audited by the same service as the API's ReportView.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache

from bureau.core.errors import NotFound, RateLimited, ValidationFailed
from bureau.core.roles import QUERY_ROLES, REPORT_READER_ROLES
from reports.services.query import ContributionRequired, query_run
from reports.services.report import WEB_FORMAT, report_read
from web.access import role_required
from web.forms_lookup import LookupForm


# Who may look a person up: as the API's queries. Bureau staff query without a
# member (their user has none).
@role_required(*QUERY_ROLES)
def lookup(request):
    """GET: the form. POST: run the query; a hit redirects to its profile page."""
    form = LookupForm(request.POST or None, user=request.user)
    refusal = ""
    status = 200
    retry_after = None
    if request.method == "POST" and form.is_valid():
        try:
            inquiry, report = query_run(
                actor=request.user, member=request.user.member, data=form.query_input()
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc.errors)
        except ContributionRequired:
            status = 403
            refusal = _(
                "Your platform has not furnished an accepted batch of records "
                "recently, so it may not look anyone up (give-to-get). Ask your "
                "uploader to send your records, then try again."
            )
        except RateLimited as exc:
            status, retry_after = 429, exc.retry_after
            refusal = ngettext(
                "You have made too many lookups in a short time. Try again in "
                "%(seconds)s second.",
                "You have made too many lookups in a short time. Try again in "
                "%(seconds)s seconds.",
                retry_after,
            ) % {"seconds": retry_after}
        else:
            if report is None:
                return render(request, "web/lookup/miss.html", {"inquiry": inquiry})
            return redirect("web:profile", inquiry_id=inquiry.pk)
    response = render(
        request,
        "web/lookup/form.html",
        {"form": form, "refusal": refusal},
        status=status,
    )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@never_cache  # a person's credit report: never kept by a browser or proxy
@role_required(*REPORT_READER_ROLES)
def profile(request, inquiry_id):
    """The profile an inquiry answered: the asking member's own (others' are 404),
    any for bureau staff. Every reading is audited."""
    try:
        inquiry = report_read(
            actor=request.user,
            member=request.user.member,
            inquiry_id=inquiry_id,
            fmt=WEB_FORMAT,
            formats=(WEB_FORMAT,),
        )
    except NotFound as exc:
        raise Http404 from exc
    return render(
        request,
        "web/lookup/profile.html",
        {"inquiry": inquiry, "report": inquiry.report},
    )
