"""The maas Django project and the API plumbing every app shares.

Not named `platform`: that would shadow the standard library module `uuid` (and so Django) imports.
"""

from maas.celery import app as celery_app

__all__ = ["celery_app"]
