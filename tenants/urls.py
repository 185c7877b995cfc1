from django.urls import path

import maas.ids  # noqa: F401  (registers the oid path converter)
from tenants import apis

urlpatterns = [
    path("tenant", apis.TenantApi.as_view(), name="tenant"),
    path("api-keys", apis.ApiKeyListApi.as_view(), name="api-key-list"),
    path("api-keys/<oid:id>", apis.ApiKeyDetailApi.as_view(), name="api-key-detail"),
]
