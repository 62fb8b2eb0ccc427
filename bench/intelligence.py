"""Access intelligence on synthetic tenants with a planted answer (issue 20).

Full scale: 100,000 users × 200 rights, 20 hidden roles, 5 % of users with a planted over-grant and 2 %
with a planted missing grant (fixed seed). Targets: right-sizing precision ≥ 0.9 and recall ≥ 0.8, ≥ 90 %
of the hidden roles recovered, the whole analysis (mining + right-sizing) ≤ 120 s on the 2-core machine.
``--scale small`` runs 5,000 users. The generator works on the users × rights matrix directly (the same
functions the pages run after ``intelligence.tenant_matrix`` has built the matrix from a tenant's rows);
a small tenant is also built in the database to time that path.
"""

from __future__ import annotations

import resource
import time

from bench._setup import line

SEED = 20


def _db_path(users: int) -> None:
    """A tenant in the database (users, roles, grants, usage): time rows → matrix → analysis."""
    from django.utils import timezone

    from accounts import services
    from accounts.models import User
    from accounts.scoping import tenant_scope
    from intelligence.services.analysis import analyse
    from permissions.models import Grant, Module, Role

    tenant = services.create_tenant(name="Bench intelligence", slug=f"bench-intel-{time.time_ns() % 10**10}")
    with tenant_scope(tenant):
        roles = list(Role.objects.all())
        modules = list(Module.objects.filter(kind="business"))
        people = User.objects.bulk_create(
            User(tenant=tenant, email=f"u{i}@bench.test", role=roles[i % len(roles)], is_active=True)
            for i in range(users)
        )
        Grant.objects.bulk_create(
            Grant(tenant=tenant, user=u, module=modules[i % len(modules)], actions=1 << (i % 5), reason="bench")
            for i, u in enumerate(people[:: max(users // 200, 1)])
        )
        start = time.perf_counter()
        result = analyse(timezone.now())
        line(f"database tenant ({users} users): rows → matrix → analysis", f"{time.perf_counter() - start:.2f} s")
        line("  rights (module, action) / outliers / mined roles", f"{len(result.matrix.rights)} / "
             f"{len(result.outliers)} / {len(result.roles)}")  # fmt: skip


def run(args) -> None:
    from intelligence.synthetic import evaluate, generate

    full = args.scale == "full"
    users = 100_000 if full else 5_000
    start = time.perf_counter()
    tenant = generate(users=users, rights=200, roles=20, overgrant_share=0.05, missing_share=0.02, seed=SEED)
    line("synthetic tenant (matrix directly, not a target)", f"{time.perf_counter() - start:.1f} s")
    line("  users × rights, hidden roles", f"{users:,} × 200, 20")
    line("  planted over-grants / missing grants", f"{len(tenant.overgrants):,} / {len(tenant.missing):,}")
    r = evaluate(tenant)
    line("right-sizing precision (target ≥ 0.9)", f"{r['precision']:.3f}")
    line("right-sizing recall (target ≥ 0.8)", f"{r['recall']:.3f}")
    line("  removals precision / recall", f"{r['removal_precision']:.3f} / {r['removal_recall']:.3f}")
    line("  additions precision / recall", f"{r['addition_precision']:.3f} / {r['addition_recall']:.3f}")
    recovered = r["roles_exact"] / r["hidden_roles"]
    line("hidden roles recovered exactly (target ≥ 90 %)", f"{r['roles_exact']}/{r['hidden_roles']} ({recovered:.0%})")
    line("  recovered with Jaccard ≥ 0.8", f"{r['roles_jaccard_08']}/{r['hidden_roles']}")
    line("  roles proposed", r["mined_roles"])
    line("mining / right-sizing", f"{r['mining_seconds']:.1f} s / {r['rightsizing_seconds']:.1f} s")
    line("whole analysis (target ≤ 120 s)", f"{r['seconds']:.1f} s")
    line("peak memory (process)", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    _harder(users)
    _db_path(2_000 if full else 300)


def _harder(users: int) -> None:
    """Not a target, a stress: 50 overlapping roles of 3–12 rights, 10 % over-grants, 5 % missing grants."""
    from intelligence.synthetic import evaluate, generate

    tenant = generate(users=users, rights=200, roles=50, overgrant_share=0.10, missing_share=0.05, role_size=(3, 12))
    r = evaluate(tenant)
    line("harder tenant (50 roles of 3–12 rights, 10 % / 5 % planted)", f"{r['seconds']:.1f} s")
    line("  precision / recall", f"{r['precision']:.3f} / {r['recall']:.3f}")
    line("  hidden roles recovered exactly", f"{r['roles_exact']}/{r['hidden_roles']}")
