"""What catalog answers for its objects: the API's serializers, and the events' objects
(an event carries the object as its GET answers)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import ModelVersion
from maas.serializers import ConstantField


class SignatureInputOutput(serializers.Serializer):
    name = serializers.CharField()
    dtype = serializers.ChoiceField(choices=["number", "string", "boolean", "image"])
    size = serializers.IntegerField(
        required=False, help_text="Images: resized to size x size before the model."
    )
    channels = serializers.IntegerField(required=False, help_text="Images: 1 gray, 3 color.")

    def to_representation(self, spec: dict) -> dict:
        data = super().to_representation(spec)
        return {k: v for k, v in data.items() if v is not None}


class SignatureOutput(serializers.Serializer):
    inputs = SignatureInputOutput(many=True)
    target = serializers.CharField()
    classes = serializers.ListField(child=serializers.JSONField(), required=False)


class OnnxOutput(serializers.Serializer):
    available = serializers.BooleanField(help_text="Served from ONNX (its parity check passed).")
    passed = serializers.BooleanField(required=False)
    rows = serializers.IntegerField(required=False, help_text="Validation rows compared.")
    max_abs_diff = serializers.FloatField(required=False)
    max_rel_diff = serializers.FloatField(required=False)
    label_agreement = serializers.FloatField(required=False)
    error = serializers.CharField(required=False)


class ModelVersionOutput(serializers.Serializer):
    object = ConstantField("model_version")
    model = serializers.CharField(source="model_id")
    version = serializers.IntegerField()
    algorithm = serializers.CharField()
    framework = serializers.ChoiceField(choices=["sklearn", "keras"])
    price_tier = serializers.ChoiceField(choices=["light", "standard", "heavy"])
    params = serializers.DictField()
    metrics = serializers.DictField(child=serializers.FloatField(allow_null=True))
    signature = SignatureOutput()
    training_job = serializers.CharField(allow_null=True)
    onnx = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def to_representation(self, version: ModelVersion) -> dict:
        data = super().to_representation(version)
        data["training_job"] = version.training_job or None
        return data

    @extend_schema_field(OnnxOutput)
    def get_onnx(self, version: ModelVersion) -> dict:
        return OnnxOutput({"available": bool(version.onnx_path), **version.onnx_parity}).data


class AliasOutput(serializers.Serializer):
    object = ConstantField("model_alias")
    model = serializers.CharField(source="model_id")
    alias = serializers.CharField(source="name")
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField()
