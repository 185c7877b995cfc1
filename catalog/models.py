from django.db import models

from maas.ids import PrefixedIdField


class Dataset(models.Model):
    """A tenant's uploaded table (CSV with a header row, or JSON Lines of flat objects)."""

    class Format(models.TextChoices):
        CSV = "csv"
        JSONL = "jsonl"
        IMAGES = "images"  # a ZIP of PNG/JPEG images, one folder per class (catalog.images)

    id = PrefixedIdField(prefix="ds")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    format = models.CharField(max_length=10, choices=Format.choices)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    n_rows = models.PositiveBigIntegerField()
    columns = models.JSONField(help_text='[{"name": ..., "dtype": "number"|"string"|"boolean"}]')
    file = models.CharField(max_length=500, help_text="path in the default storage")
    images = models.JSONField(
        null=True, blank=True, help_text='images: {"width", "height", "channels", "classes"}'
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="dataset_list")]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class Model(models.Model):
    """A named model of a tenant; each successful training job adds a version."""

    id = PrefixedIdField(prefix="mdl")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="models")
    name = models.CharField(max_length=100)
    task = models.CharField(max_length=20)  # classification | regression
    latest_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="model_name_once")]
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="model_list")]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class ModelVersion(models.Model):
    """One trained version: what it is, how well it did, its input signature and its artifacts
    (only files our workers wrote; their sha256 is checked before any load)."""

    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    algorithm = models.CharField(max_length=50)
    framework = models.CharField(max_length=20)
    price_tier = models.CharField(max_length=20)
    params = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict)
    signature = models.JSONField(help_text='{"inputs": [{"name", "dtype"}], "target", "classes"?}')
    training_job = models.CharField(max_length=40, blank=True)
    native_path = models.CharField(max_length=500)
    native_sha256 = models.CharField(max_length=64)
    onnx_path = models.CharField(max_length=500, blank=True, help_text="empty: no usable export")
    onnx_sha256 = models.CharField(max_length=64, blank=True)
    onnx_parity = models.JSONField(default=dict, help_text="the export checked against the native")
    evaluation = models.JSONField(
        default=dict,
        blank=True,
        help_text="validation report, cross-validation, feature importance; empty: trained "
        "before evaluations were kept",
    )
    explainer = models.JSONField(
        default=dict, blank=True, help_text="what explaining needs; empty: not explainable"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="model_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.model_id} v{self.version}"


class ModelAlias(models.Model):
    """A name for one version of a model (`production` -> 3): what predict, explain and batch
    jobs serve when asked for it. Moved only by catalog.services.model_alias_set/_delete,
    which record every move in ModelAliasMove."""

    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=32)
    version = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "name"], name="model_alias_once")]
        verbose_name_plural = "model aliases"

    def __str__(self) -> str:
        return f"{self.model_id}@{self.name} -> v{self.version}"


class ModelAliasMove(models.Model):
    """The audit trail of aliases: who moved which alias of which model, when, from what
    version to what (null: created, or removed)."""

    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="alias_moves")
    alias = models.CharField(max_length=32)
    from_version = models.PositiveIntegerField(null=True, blank=True)
    to_version = models.PositiveIntegerField(null=True, blank=True)
    actor = models.CharField(max_length=100, help_text="the API key (key_...) or admin user")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["model", "-created_at"], name="alias_move_list")]

    def __str__(self) -> str:
        return f"{self.model_id}@{self.alias}: {self.from_version} -> {self.to_version}"
