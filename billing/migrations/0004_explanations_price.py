"""Adds the `explanations` meter's default price to every plan's book (what exists is kept)."""

from django.db import migrations

from billing.price_book_defaults import ensure_default_price_books


def seed(apps, schema_editor):
    ensure_default_price_books(
        apps.get_model("billing", "PriceBook"), apps.get_model("billing", "MeterPrice")
    )


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_spend_status_quantities")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
