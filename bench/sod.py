"""Separation-of-duties benchmark: what the SoD check adds to a cold ``can`` (issue 17: ≤ 0.1 ms p50).

``python -m bench --only sod [--scale small|full]``. Reuses the permissions benchmark's tenant (generated once
per scale, ``bench.permissions.generate``) and gives it 20 separation-of-duties rules over its modules (a
role side, module sides). Prints p50/p99 of, on random users of the whole tenant:

- ``can`` cold: the process's compiled sets empty (the version row read, the one query);
- the same cold ``can`` followed by the SoD check on the set it compiled (``sod.user_violations``): the rules
  are per tenant and version, so they are compiled once per process and version, not per user;
- the SoD check alone on a warm set, and the first check after a version change (the rules' one query);
- the preventive check of a direct grant (``gates.conflicts``: one batched query of the subject's set).

Each sample's cache clearing happens outside its timed region.
"""

from __future__ import annotations

import random
import time

from bench.permissions import SEED, ensure_database, fmt, generate, out

RULES = 20


def _rules(tenant):
    """Twenty rules over the tenant's business and console modules (made once; idempotent)."""
    from permissions.models import Module, Role, SodRule
    from permissions.services import sod_rules
    from permissions.vocabulary import BITS

    if SodRule.objects.count() >= RULES:
        return
    modules = list(Module.objects.order_by("id"))
    role = Role.objects.order_by("id").first()
    pairs = [("view", "export"), ("create", "delete"), ("change", "delete"), ("export", "view_sensitive")]
    made = SodRule.objects.count()
    for index in range(made, RULES):
        module = modules[index % len(modules)]
        first, second = pairs[index % len(pairs)]
        sides = {}
        if index == 0:
            sides = {"first_role": role}
        elif module.actions & BITS[first]:
            sides = {"first_module": module, "first_actions": [first]}
        else:
            sides = {"first_module": module, "first_actions": [a for a in BITS if module.actions & BITS[a]][:1]}
        second_actions = (
            [second] if module.actions & BITS[second] else [a for a in BITS if module.actions & BITS[a]][-1:]
        )
        sod_rules.create_rule(
            actor=None,
            tenant=tenant,
            name=f"bench rule {index}",
            reason="benchmark",
            second_module=module,
            second_actions=second_actions,
            **sides,
        )


def _samples(prepare, measure, n: int) -> tuple[float, float]:
    """(p50, p99) in µs of ``measure(i)``, each call after ``prepare(i)`` (not timed)."""
    clock, samples = time.perf_counter_ns, []
    for i in range(n):
        prepare(i)
        start = clock()
        measure(i)
        samples.append(clock() - start)
    samples.sort()
    return samples[len(samples) // 2] / 1000, samples[min(len(samples) - 1, int(len(samples) * 0.99))] / 1000


def run(args) -> None:
    from accounts.models import User
    from accounts.scoping import tenant_scope
    from permissions import engine, sod
    from permissions.models import Module
    from permissions.services import gates
    from permissions.versioning import current_version, request_versions
    from permissions.vocabulary import Action

    ensure_database()
    world = generate(args.scale)
    tenant = world.tenant
    rng = random.Random(SEED + 17)
    n = 4_000 if args.scale == "full" else 1_000
    with tenant_scope(tenant):
        _rules(tenant)
        lo, hi = world.user_ids
        users = list(User.objects.in_bulk([lo + rng.randrange(hi - lo + 1) for _ in range(n)]).values())
        reports = Module.objects.get(key="reports")
        out(f"  {len(sod.tenant_rules(tenant.pk))} rules; {len(users):,} random users of the tenant")
        for i in range(200):  # the connection and its prepared statement
            engine.clear_process_cache()
            engine.can(users[i % len(users)], Action.VIEW, "reports")

        def cold_start(i):
            engine.clear_process_cache()
            sod.tenant_rules(tenant.pk)  # per tenant and version: warm in a running process

        # Both inside a request's version memo, as the check API and the console run them: the version row is
        # read once per request (by the cold can), and the check reuses it.
        def can(i):
            with request_versions():
                engine.can(users[i % len(users)], Action.VIEW, "reports")

        def can_and_check(i):
            user = users[i % len(users)]
            with request_versions():
                engine.can(user, Action.VIEW, "reports")
                sod.user_violations(user)

        base = _samples(cold_start, can, n)
        fmt("can, cold (module key)", base)
        both = _samples(cold_start, can_and_check, n)
        fmt("can, cold + SoD check on its compiled set", both)
        out(f"  {'→ the SoD check adds (p50)':<58} {both[0] - base[0]:.2f} µs")

        def warm(i):
            engine.can(users[i % len(users)], Action.VIEW, "reports")

        def check_in_request(i):
            with request_versions():
                sod.user_violations(users[i % len(users)])

        fmt("SoD check alone, warm set (in a request)", _samples(warm, check_in_request, n))
        version = current_version(tenant.pk)

        def forget_rules(i):
            sod.clear()
            engine.can(users[i % len(users)], Action.VIEW, "reports")

        fmt(
            "SoD check, rules not yet compiled (one query)",
            _samples(forget_rules, lambda i: sod.user_violations(users[i % len(users)]), n // 4),
        )
        gain = lambda i: gates.Gain([users[i % len(users)]], bits={reports.pk: Action.EXPORT.bit})  # noqa: E731
        fmt(
            "preventive check of a direct grant (gates.conflicts)",
            _samples(lambda i: None, lambda i: gates.conflicts(gain(i)), n // 4),
        )
        assert current_version(tenant.pk) == version  # nothing measured changed anything
