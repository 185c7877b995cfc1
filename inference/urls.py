from django.urls import path

from inference import apis

urlpatterns = [
    path("inference-jobs", apis.InferenceJobListApi.as_view(), name="inference-job-list"),
    path(
        "inference-jobs/<str:id>", apis.InferenceJobDetailApi.as_view(), name="inference-job-detail"
    ),
    path(
        "inference-jobs/<str:id>/cancel",
        apis.InferenceJobCancelApi.as_view(),
        name="inference-job-cancel",
    ),
    path(
        "inference-jobs/<str:id>/results",
        apis.InferenceJobResultsApi.as_view(),
        name="inference-job-results",
    ),
    path(
        "inference-jobs/<str:id>/errors",
        apis.InferenceJobErrorsApi.as_view(),
        name="inference-job-errors",
    ),
]
