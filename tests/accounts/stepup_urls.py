"""The real URLs plus two small protected views, to test the step-up decorator and mixin."""

from django.http import HttpResponse
from django.urls import path
from django.views import View

from accounts.stepup import RecentMfaRequiredMixin, require_recent_mfa
from portal.urls import urlpatterns as portal_urlpatterns


@require_recent_mfa
def sensitive(request):
    return HttpResponse("sensitive action done")


class SensitiveView(RecentMfaRequiredMixin, View):
    def get(self, request):
        return HttpResponse("sensitive view shown")


urlpatterns = [
    path("test/sensitive/", sensitive, name="test_sensitive"),
    path("test/sensitive-view/", SensitiveView.as_view(), name="test_sensitive_view"),
    *portal_urlpatterns,
]
