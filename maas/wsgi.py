import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maas.settings")
django.setup(set_prefix=False)

from maas.handlers import Application  # noqa: E402  (needs the apps loaded)

application = Application()

# Everything loaded so far lives as long as the process: keep it out of the garbage
# collector's scans, whose full passes over Django's objects show as latency spikes.
gc.freeze()
