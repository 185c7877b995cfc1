"""Thin tasks: what they do is webhooks.delivery's."""

from celery import shared_task

from webhooks.delivery import deliveries_due, delivery_attempt


@shared_task
def deliver_webhook(delivery_id: str) -> None:
    delivery_attempt(delivery_id)


@shared_task
def dispatch_due_webhooks() -> None:
    """Beat, every few seconds: retries that are due, and sends whose worker died."""
    for delivery_id in deliveries_due():
        deliver_webhook.delay(delivery_id)
