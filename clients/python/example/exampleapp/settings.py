"""Minimal settings to try the example against a running portal (values from the environment)."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = os.environ.get("EXAMPLE_SECRET_KEY", "example-only-not-secret")
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "exampleapp.urls"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "portcullis_client",
    "exampleapp",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True, "OPTIONS": {}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "example.sqlite3"}}
PORTCULLIS = {
    "URL": os.environ.get("PORTCULLIS_URL", "http://127.0.0.1:8000"),
    "TOKEN": os.environ.get("PORTCULLIS_TOKEN", ""),
    "WEBHOOK_SECRET": os.environ.get("PORTCULLIS_WEBHOOK_SECRET"),
    "SUBJECT": "portcullis_id",  # the Portcullis user id of request.user (an attribute or a callable)
}
