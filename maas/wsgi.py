import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maas.settings")
django.setup(set_prefix=False)

from maas.handlers import Application  # noqa: E402  (needs the apps loaded)

application = Application()
