"""What training answers for its objects: the API's serializers, and the events' objects
(an event carries the object as its GET answers)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from maas.serializers import ConstantField, DecimalOutput, JobErrorOutput, job_error
from training.models import TrainingJob


class TrainingUsageOutput(serializers.Serializer):
    compute_seconds = DecimalOutput(help_text="Billed seconds of worker time, as a decimal string.")
    rows_processed = serializers.IntegerField()


class TrainingJobOutput(serializers.Serializer):
    id = serializers.CharField()
    object = ConstantField("training_job")
    status = serializers.ChoiceField(choices=TrainingJob.Status.choices)
    progress = serializers.FloatField(min_value=0, max_value=1)
    dataset = serializers.CharField(source="dataset_ref")
    algorithm = serializers.CharField()
    params = serializers.DictField()
    target = serializers.CharField()
    features = serializers.ListField(child=serializers.CharField())
    model = serializers.CharField(source="model_id", allow_null=True)
    model_name = serializers.CharField()
    model_version = serializers.IntegerField(allow_null=True)
    metrics = serializers.DictField(child=serializers.FloatField(allow_null=True), allow_null=True)
    error = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()
    validation_split = serializers.FloatField()
    cv_folds = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(JobErrorOutput(allow_null=True))
    def get_error(self, job: TrainingJob) -> dict | None:
        return job_error(job)

    @extend_schema_field(TrainingUsageOutput)
    def get_usage(self, job: TrainingJob) -> dict:
        return TrainingUsageOutput(job).data
