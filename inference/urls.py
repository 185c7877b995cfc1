from django.urls import path

from inference import apis

urlpatterns = [
    path("models/<str:id>/predict", apis.predict, name="model-predict"),
]
