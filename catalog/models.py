from django.db import models

from maas.ids import PrefixedIdField
from tenants.models import Tenant


class Dataset(models.Model):
    """A tenant's uploaded table (CSV with a header row, or JSON Lines of flat objects)."""

    class Format(models.TextChoices):
        CSV = "csv"
        JSONL = "jsonl"

    id = PrefixedIdField(prefix="ds")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    format = models.CharField(max_length=10, choices=Format.choices)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    n_rows = models.PositiveBigIntegerField()
    columns = models.JSONField(help_text='[{"name": ..., "dtype": "number"|"string"|"boolean"}]')
    file = models.CharField(max_length=500, help_text="path in the default storage")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="dataset_list")]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"
