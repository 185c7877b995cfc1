from django.urls import path

import maas.ids  # noqa: F401  (registers the oid path converter)
from training import apis

urlpatterns = [
    path("algorithms", apis.AlgorithmListApi.as_view(), name="algorithm-list"),
    path("training-jobs", apis.TrainingJobListApi.as_view(), name="training-job-list"),
    path("training-jobs/<oid:id>", apis.TrainingJobDetailApi.as_view(), name="training-job-detail"),
    path(
        "training-jobs/<oid:id>/cancel",
        apis.TrainingJobCancelApi.as_view(),
        name="training-job-cancel",
    ),
    path(
        "training-jobs/<oid:id>/events",
        apis.TrainingJobEventListApi.as_view(),
        name="training-job-events",
    ),
]
