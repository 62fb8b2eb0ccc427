from django.contrib.auth import views as auth_views
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from accounts import services
from accounts.forms import LoginForm
from permissions.views import PUBLIC, public


class LoginView(auth_views.LoginView):
    authz = PUBLIC
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default): a GET never ends a session."""

    authz = PUBLIC


@public
@require_POST
def set_language(request):
    """Switch language; for a logged-in user the choice is remembered on their account."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and response.status_code == 302 and language:
        try:
            services.set_language(request.user, language)
        except ValueError:
            pass
    return response
