from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Metering and billing"

    def ready(self) -> None:
        from billing.spend import spend_admitted, spend_require
        from maas import admission

        # New predictions and jobs are refused once the tenant's spend limit is reached, and
        # what a process admits counts toward it there at once.
        admission.configure(spend_check=spend_require, spend_admitted=spend_admitted)
