from django.urls import path

import maas.ids  # noqa: F401  (registers the oid path converter)
from catalog import apis

urlpatterns = [
    path("datasets", apis.DatasetListApi.as_view(), name="dataset-list"),
    path("datasets/<oid:id>", apis.DatasetDetailApi.as_view(), name="dataset-detail"),
    path("models", apis.ModelListApi.as_view(), name="model-list"),
    path("models/<oid:id>", apis.ModelDetailApi.as_view(), name="model-detail"),
    path("models/<oid:id>/versions", apis.ModelVersionListApi.as_view(), name="model-versions"),
    path("models/<oid:id>/aliases/<str:alias>", apis.ModelAliasApi.as_view(), name="model-alias"),
    path(
        "models/<oid:id>/versions/<str:n>",
        apis.ModelVersionDetailApi.as_view(),
        name="model-version-detail",
    ),
    path(
        "models/<oid:id>/versions/<str:n>/onnx",
        apis.ModelVersionOnnxApi.as_view(),
        name="model-version-onnx",
    ),
    path(
        "models/<oid:id>/versions/<str:n>/evaluation",
        apis.ModelVersionEvaluationApi.as_view(),
        name="model-version-evaluation",
    ),
]
