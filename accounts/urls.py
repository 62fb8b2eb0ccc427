from django.urls import include, path

from accounts import preferences, views
from accounts.mfa import views as mfa_views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("language/", views.set_language, name="set_language"),
    path("mfa/", mfa_views.mfa_verify, name="mfa_verify"),
    path("mfa/enrol/", mfa_views.mfa_enrol, name="mfa_enrol"),
    path("mfa/step-up/", mfa_views.stepup, name="stepup"),
    path("reauthenticate/", mfa_views.reauthenticate, name="reauth"),
    path("security/", mfa_views.security, name="security"),
    path("preferences/", preferences.preferences, name="preferences"),
    path("security/authenticators/<int:device_id>/remove/", mfa_views.remove_device, name="mfa_remove"),
    path("security/backup-codes/", mfa_views.regenerate_backup_codes, name="backup_codes"),
    path("security/password/", views.password_change, name="password_change"),
    path("security/sessions/", views.my_sessions, name="sessions"),
    path("security/history/", views.my_login_history, name="history"),
    path("users/<int:user_id>/login-history/", views.user_login_history, name="user_history"),
    path("users/<int:user_id>/reset-mfa/", mfa_views.reset_user_mfa, name="user_mfa_reset"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path("invitation/", views.invitation_accept, name="invitation_accept"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/new/", views.password_reset_set, name="password_reset_set"),
    path("password-reset/<str:token>/", views.password_reset_confirm, name="password_reset_confirm"),
    path("", include("accounts.passkeys.urls")),
]
