from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import NoReverseMatch
from django.views.decorators.http import require_GET

from members.models import Role

# Where each role starts.
START_PAGE = {
    Role.ANALYST: "web:lookup",
    Role.UPLOADER: "web:batch-list",
    Role.MEMBER_ADMIN: "web:keys",
    Role.BUREAU_ADMIN: "web:dashboard",
    Role.COMPLIANCE: "web:dashboard",
    Role.AUDITOR: "web:dashboard",
}


@login_required
def home(request):
    target = START_PAGE.get(request.user.role)
    if target:
        try:
            return redirect(target)
        except NoReverseMatch:  # that area has no pages yet
            return render(request, "web/home.html")
    return render(request, "web/home.html")


@require_GET
def favicon(request):
    """/favicon.ico, which browsers ask for on pages that link no icon (the admin,
    the API's): the static file, with its cache headers (whitenoise)."""
    return HttpResponseRedirect(static("favicon.ico"))
