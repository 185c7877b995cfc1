"""The three plans' default price books. Prices are per meter unit (second, byte, row,
prediction), so 12 decimal places matter: $0.10 per GB is 0.0000000001 per byte. Seeded by a
migration; editable afterwards in the admin."""

from decimal import Decimal


def tiers(*rows):
    return [{"up_to": up_to, "unit_amount": unit, "flat_amount": "0"} for up_to, unit in rows]


BOOKS = {
    "free": {
        "name": "Free",
        "prices": {
            "compute.cpu_seconds": ("0.0001", "3600", [], None),
            "compute.gpu_seconds": ("0.0008", "0", [], None),
            "data.ingested_bytes": ("0.0000000001", "1000000000", [], None),
            "data.processed_rows": ("0.000001", "1000000", [], None),
            "predictions": (
                "0.0002",
                "0",
                [],
                {
                    "light": {"unit_amount": "0.0001", "allowance": "10000", "tiers": []},
                    "standard": {"unit_amount": "0.0002", "allowance": "10000", "tiers": []},
                    "heavy": {"unit_amount": "0.0005", "allowance": "1000", "tiers": []},
                },
            ),
            "explanations": ("0.001", "1000", [], None),
        },
    },
    "standard": {
        "name": "Standard",
        "prices": {
            "compute.cpu_seconds": ("0.00008", "3600", [], None),
            "compute.gpu_seconds": ("0.0007", "0", [], None),
            "data.ingested_bytes": ("0.00000000008", "10000000000", [], None),
            "data.processed_rows": ("0.0000008", "1000000", [], None),
            "predictions": (
                "0.00015",
                "0",
                [],
                {
                    "light": {
                        "unit_amount": "0",
                        "allowance": "10000",
                        "tiers": tiers(
                            ("1000000", "0.00008"), ("10000000", "0.00005"), (None, "0.00003")
                        ),
                    },
                    "standard": {
                        "unit_amount": "0",
                        "allowance": "10000",
                        "tiers": tiers(
                            ("1000000", "0.00015"), ("10000000", "0.0001"), (None, "0.00006")
                        ),
                    },
                    "heavy": {
                        "unit_amount": "0",
                        "allowance": "1000",
                        "tiers": tiers(
                            ("1000000", "0.0004"), ("10000000", "0.0003"), (None, "0.0002")
                        ),
                    },
                },
            ),
            "explanations": ("0.0005", "10000", [], None),
        },
    },
    "enterprise": {
        "name": "Enterprise",
        "prices": {
            "compute.cpu_seconds": ("0.00006", "36000", [], None),
            "compute.gpu_seconds": ("0.0005", "3600", [], None),
            "data.ingested_bytes": ("0.00000000005", "100000000000", [], None),
            "data.processed_rows": ("0.0000005", "10000000", [], None),
            "predictions": (
                "0.0001",
                "0",
                [],
                {
                    "light": {
                        "unit_amount": "0",
                        "allowance": "100000",
                        "tiers": tiers(("10000000", "0.00005"), (None, "0.00002")),
                    },
                    "standard": {
                        "unit_amount": "0",
                        "allowance": "100000",
                        "tiers": tiers(("10000000", "0.0001"), (None, "0.00004")),
                    },
                    "heavy": {
                        "unit_amount": "0",
                        "allowance": "10000",
                        "tiers": tiers(("10000000", "0.0003"), (None, "0.00015")),
                    },
                },
            ),
            "explanations": ("0.0003", "100000", [], None),
        },
    },
}


def ensure_default_price_books(PriceBook, MeterPrice) -> None:
    """Creates the missing default books and prices; leaves existing ones as operators set them."""
    for code, book in BOOKS.items():
        price_book, _ = PriceBook.objects.get_or_create(
            code=code, defaults={"name": book["name"], "currency": "usd"}
        )
        for meter, (unit, allowance, meter_tiers, price_tiers) in book["prices"].items():
            MeterPrice.objects.get_or_create(
                price_book=price_book,
                meter=meter,
                defaults={
                    "unit_amount": Decimal(unit),
                    "allowance": Decimal(allowance),
                    "tiers": meter_tiers,
                    "price_tiers": price_tiers,
                },
            )
