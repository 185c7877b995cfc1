"""What inference answers for its objects: the API's serializers, and the events' objects
(an event carries the object as its GET answers)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inference.models import InferenceJob
from maas.serializers import ConstantField, DecimalOutput, JobErrorOutput, job_error


class RequestCountsOutput(serializers.Serializer):
    total = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()


class InferenceUsageOutput(serializers.Serializer):
    compute_seconds = DecimalOutput(help_text="Billed seconds of worker time, as a decimal string.")


class InferenceJobOutput(serializers.Serializer):
    id = serializers.CharField()
    object = ConstantField("inference_job")
    status = serializers.ChoiceField(choices=InferenceJob.Status.choices)
    progress = serializers.FloatField(min_value=0, max_value=1)
    model = serializers.CharField(source="model_ref")
    version = serializers.IntegerField()
    dataset = serializers.CharField(source="dataset_ref")
    request_counts = RequestCountsOutput(source="*")
    error = serializers.SerializerMethodField()
    usage = InferenceUsageOutput(source="*")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(JobErrorOutput(allow_null=True))
    def get_error(self, job: InferenceJob) -> dict | None:
        return job_error(job)
