"""Run the benchmarks and print their figures: ``python -m bench [--only SUITE] [--scale small|full] [--quick]``.

Each suite is a module of this package with ``run(args) -> None``; it prints its own figures.
Suites read DATABASE_URL (default: the local server, database portcullis_bench) and REDIS_URL (default:
the local server, database 0), as production runs on PostgreSQL and Redis. ``--quick`` runs every suite
on its small data set: a check of the harness in minutes, not figures.
"""

import argparse
import importlib
import os
import pkgutil
import sys
from pathlib import Path


def suites() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", action="append", choices=suites(), help="run only this suite (repeatable)")
    parser.add_argument("--scale", choices=["small", "full"], default="full", help="data size (small: quick look)")
    parser.add_argument(
        "--quick", action="store_true", help="same as --scale small: build and check the harness in minutes"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.scale = "small"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portcullis_bench")
    # Redis as in production: the authorization version, the API's keys and rate limits are read there.
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ.setdefault("PORTCULLIS_HTTPS", "0")
    import django

    from bench import _setup

    _setup.ensure_database()
    django.setup()
    _setup.migrate()
    chosen = args.only or suites()
    if not chosen:
        sys.stdout.write("no benchmark suites yet\n")
    for name in chosen:
        sys.stdout.write(f"\n== {name}\n")
        importlib.import_module(f"bench.{name}").run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
