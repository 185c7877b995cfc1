"""Seeds the plans' price books (billing/price_book_defaults.py)."""

from django.db import migrations

from billing.price_book_defaults import ensure_default_price_books


def seed(apps, schema_editor):
    ensure_default_price_books(apps.get_model("billing", "PriceBook"), apps.get_model("billing", "MeterPrice"))


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
