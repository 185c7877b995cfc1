from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Metering and billing"

    def ready(self) -> None:
        from billing.metrics import usage_backlog_read
        from billing.spend import spend_admitted, spend_require
        from maas import admission
        from maas.metrics import scrape_register

        # New predictions and jobs are refused once the tenant's spend limit is reached, and
        # what a process admits counts toward it there at once.
        admission.configure(spend_check=spend_require, spend_admitted=spend_admitted)
        scrape_register(usage_backlog_read)  # read at each GET /metrics
