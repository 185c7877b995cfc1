from django.urls import path

from console import access, auth
from console.views import (
    batch,
    datasets,
    invoices,
    keys,
    models,
    overview,
    settings,
    training,
    usage,
)

app_name = "console"

urlpatterns = [
    path("login/", auth.SignInView.as_view(), name="login"),
    path("logout/", auth.SignOutView.as_view(), name="logout"),
    path("password-reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("", overview.OverviewView.as_view(), name="overview"),
    path("switch", access.SwitchTenantView.as_view(), name="switch"),
    path("keys/", keys.KeyListView.as_view(), name="keys"),
    path("keys/<str:id>/revoke", keys.KeyRevokeView.as_view(), name="key_revoke"),
    path("datasets/", datasets.DatasetListView.as_view(), name="datasets"),
    path("datasets/upload", datasets.DatasetUploadView.as_view(), name="dataset_upload"),
    path("datasets/<str:id>", datasets.DatasetDetailView.as_view(), name="dataset"),
    path("training/", training.TrainingView.as_view(), name="training"),
    path("training/columns", training.TrainingColumnsView.as_view(), name="training_columns"),
    path("training/<str:id>", training.TrainingJobView.as_view(), name="training_job"),
    path("models/", models.ModelListView.as_view(), name="models"),
    path("models/<str:id>", models.ModelDetailView.as_view(), name="model"),
    path("models/<str:id>/aliases", models.ModelAliasView.as_view(), name="model_alias"),
    path("models/<str:id>/predict", models.ModelPredictView.as_view(), name="model_predict"),
    path("models/<str:id>/explain", models.ModelExplainView.as_view(), name="model_explain"),
    path(
        "models/<str:id>/versions/<int:n>/onnx", models.ModelOnnxView.as_view(), name="model_onnx"
    ),
    path("batch/", batch.BatchView.as_view(), name="batch"),
    path("batch/<str:id>", batch.BatchJobView.as_view(), name="batch_job"),
    path("batch/<str:id>/results", batch.BatchDownloadView.as_view(), name="batch_results"),
    path("batch/<str:id>/errors", batch.BatchErrorsView.as_view(), name="batch_errors"),
    path("usage/", usage.UsageView.as_view(), name="usage"),
    path("usage.csv", usage.UsageCsvView.as_view(), name="usage_csv"),
    path("invoices/", invoices.InvoiceListView.as_view(), name="invoices"),
    path("invoices/upcoming.pdf", invoices.UpcomingPdfView.as_view(), name="invoice_upcoming_pdf"),
    path("invoices/<str:id>.pdf", invoices.InvoicePdfView.as_view(), name="invoice_pdf"),
    path("invoices/<str:id>", invoices.InvoiceDetailView.as_view(), name="invoice"),
    path("settings/", settings.SettingsView.as_view(), name="settings"),
]
