"""The predict route, which maas.urls resolves before every other: it is the one path where the
resolver's walk through the other apps' patterns (~30 µs) shows."""

from django.urls import path

import maas.ids  # noqa: F401  (registers the oid path converter)
from inference import apis

urlpatterns = [
    path("models/<oid:id>/predict", apis.predict, name="model-predict"),
]
