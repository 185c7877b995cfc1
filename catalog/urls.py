from django.urls import path

from catalog import apis

urlpatterns = [
    path("datasets", apis.DatasetListApi.as_view(), name="dataset-list"),
    path("datasets/<str:id>", apis.DatasetDetailApi.as_view(), name="dataset-detail"),
    path("models", apis.ModelListApi.as_view(), name="model-list"),
    path("models/<str:id>", apis.ModelDetailApi.as_view(), name="model-detail"),
    path("models/<str:id>/versions", apis.ModelVersionListApi.as_view(), name="model-versions"),
    path(
        "models/<str:id>/versions/<str:n>",
        apis.ModelVersionDetailApi.as_view(),
        name="model-version-detail",
    ),
]
