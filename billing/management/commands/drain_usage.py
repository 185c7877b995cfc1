import time

from django.core.management.base import BaseCommand

from billing import services


class Command(BaseCommand):
    help = "Drain usage (Redis stream), roll it up and refresh spend, in a loop or once."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true")
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args, once, interval, **options):
        while True:
            rolled = services.usage_process()
            if once:
                self.stdout.write(f"rolled up {rolled} events")
                return
            if not rolled:
                time.sleep(interval)
