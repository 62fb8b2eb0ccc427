import time

from django.core.management.base import BaseCommand

from portal.jobs import lower_priority, run_due_jobs


class Command(BaseCommand):
    help = "Run every due background job once (idempotent), or forever with --loop SECONDS."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=int, default=0, metavar="SECONDS", help="repeat every SECONDS")

    def handle(self, *args, loop=0, **options):
        lower_priority()  # a job process: the web answers first
        while True:
            results = run_due_jobs()
            changed = {name: count for name, count in results.items() if count}
            if changed or not loop:
                self.stdout.write(f"jobs: {changed or 'nothing due'}")
            if not loop:
                return
            time.sleep(loop)
