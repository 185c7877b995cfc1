from django.urls import path

import maas.ids  # noqa: F401  (registers the oid path converter)
from inference import apis

urlpatterns = [
    path("models/<oid:id>/explain", apis.explain, name="model-explain"),
    path("inference-jobs", apis.InferenceJobListApi.as_view(), name="inference-job-list"),
    path(
        "inference-jobs/<oid:id>", apis.InferenceJobDetailApi.as_view(), name="inference-job-detail"
    ),
    path(
        "inference-jobs/<oid:id>/cancel",
        apis.InferenceJobCancelApi.as_view(),
        name="inference-job-cancel",
    ),
    path(
        "inference-jobs/<oid:id>/results",
        apis.InferenceJobResultsApi.as_view(),
        name="inference-job-results",
    ),
    path(
        "inference-jobs/<oid:id>/errors",
        apis.InferenceJobErrorsApi.as_view(),
        name="inference-job-errors",
    ),
]
