from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Metering and billing"

    def ready(self) -> None:
        from billing.spend import spend_require
        from maas import admission

        # New predictions and jobs are refused once the tenant's spend limit is reached.
        admission.configure(spend_check=spend_require)
