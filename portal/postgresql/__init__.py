"""Django's PostgreSQL backend with a health check that a busy connection skips (see ``base``)."""
