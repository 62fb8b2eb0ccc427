"""Passkey URLs, included by accounts/urls.py under the "accounts" namespace."""

from django.urls import path

from accounts.passkeys import views

urlpatterns = [
    path("passkeys/sign-in/options/", views.login_options, name="passkey_login_options"),
    path("passkeys/sign-in/", views.login, name="passkey_login"),
    path("passkeys/verify/options/", views.verify_options, name="passkey_verify_options"),
    path("passkeys/verify/", views.verify, name="passkey_verify"),
    path("passkeys/required/", views.confirm, name="passkey_confirm"),
    path("security/passkeys/add/", views.add, name="passkey_add"),
    path("security/passkeys/add/options/", views.register_options, name="passkey_register_options"),
    path("security/passkeys/add/finish/", views.register, name="passkey_register"),
    path("security/passkeys/<int:passkey_id>/rename/", views.rename, name="passkey_rename"),
    path("security/passkeys/<int:passkey_id>/remove/", views.remove, name="passkey_remove"),
]
