from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from permissions.views import login_only, public


@login_only
def home(request):
    """The tenant's home: who I am, which tenant, which role. Platform operators go to their admin."""
    if request.tenant is None:
        return redirect("admin:index")
    return render(request, "portal/home.html", {"user": request.user})


@public
@never_cache
@require_GET
def healthz(request):
    """Liveness and readiness for load balancers: JSON, 200 when the database answers, else 503."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except DatabaseError:
        checks["database"] = "error"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
