from django.urls import path

from inference import apis

# The predict route, which maas.urls resolves before every other: it is the one path where the
# resolver's walk through the other apps' patterns (~30 µs) shows.
hot_urlpatterns = [
    path("models/<str:id>/predict", apis.predict, name="model-predict"),
]

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
