"""Pricing against hand calculations: each case writes out the arithmetic it expects."""

from decimal import Decimal as D

import pytest

from billing.pricing import Price, Tier, charge, decimal_string, parse_tiers, round_money

GRADUATED = (
    Tier(up_to=D(1000), unit_amount=D("0.01")),
    Tier(up_to=D(5000), unit_amount=D("0.008"), flat_amount=D("2")),
    Tier(up_to=None, unit_amount=D("0.005"), flat_amount=D("5")),
)

CASES = [
    # (what, price, quantity, expected, the hand calculation)
    ("flat", Price(D("0.0002")), D(12345), D("2.469"), "12345 x 0.0002 = 2.469"),
    ("allowance not used up", Price(D("0.5"), allowance=D(100)), D(40), D(0), "max(40-100,0)=0"),
    ("allowance exactly used", Price(D("0.5"), allowance=D(100)), D(100), D(0), "100-100 = 0"),
    ("beyond the allowance", Price(D("0.5"), allowance=D(100)), D(130), D(15), "(130-100) x 0.5"),
    ("first tier only", Price(D(0), tiers=GRADUATED), D(800), D(8), "800 x 0.01 = 8"),
    ("first tier full", Price(D(0), tiers=GRADUATED), D(1000), D(10), "1000 x 0.01 = 10"),
    (
        "reaches the second tier",
        Price(D(0), tiers=GRADUATED),
        D(1001),
        D("12.008"),
        "1000 x 0.01 + 1 x 0.008 + flat 2 = 10 + 0.008 + 2",
    ),
    (
        "into the open tier",
        Price(D(0), tiers=GRADUATED),
        D(7000),
        D(59),
        "10 + (4000 x 0.008 + 2) + (2000 x 0.005 + 5) = 10 + 34 + 15",
    ),
    (
        "allowance then tiers",
        Price(D(0), allowance=D(500), tiers=GRADUATED),
        D(2000),
        D("16"),
        "billable 1500: 1000 x 0.01 + 500 x 0.008 + 2 = 10 + 4 + 2",
    ),
    ("zero", Price(D(0), tiers=GRADUATED), D(0), D(0), "no tier reached, no flat fee"),
    (
        "per-byte price, 12 places",
        Price(D("0.0000000001"), allowance=D(1_000_000_000)),
        D(3_500_000_000),
        D("0.25"),
        "($0.10 per GB) 2.5e9 bytes x 1e-10 = 0.25",
    ),
    (
        "compute to the millisecond",
        Price(D("0.00008"), allowance=D(3600)),
        D("3725.125"),
        D("0.01001"),
        "125.125 s x 0.00008 = 0.01001",
    ),
]


@pytest.mark.parametrize(
    ("what", "price", "quantity", "expected", "calc"), CASES, ids=[c[0] for c in CASES]
)
def test_charge_matches_the_hand_calculation(what, price, quantity, expected, calc):
    assert charge(price, quantity) == expected, calc


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [
        ("0.005", "0.00"),
        ("0.015", "0.02"),
        ("0.025", "0.02"),
        ("2.469", "2.47"),
        ("0.01001", "0.01"),
    ],
)
def test_lines_round_half_even_to_cents(amount, rounded):
    assert round_money(D(amount)) == D(rounded)


def test_rounding_lines_once_keeps_subtotal_equal_to_their_sum():
    # Three lines of 0.005 each: rounding the sum (0.015 -> 0.02) would differ from the sum of
    # rounded lines (0.00 x 3). The invoice adds rounded lines, so the two always agree.
    lines = [round_money(charge(Price(D("0.0005")), D(10))) for _ in range(3)]
    assert lines == [D("0.00")] * 3 and sum(lines) == D("0.00")


def test_tier_validation():
    with pytest.raises(ValueError, match="greater"):
        parse_tiers([{"up_to": "10", "unit_amount": "1"}, {"up_to": "5", "unit_amount": "1"}])
    with pytest.raises(ValueError, match="last tier"):
        parse_tiers([{"up_to": None, "unit_amount": "1"}, {"up_to": "5", "unit_amount": "1"}])
    with pytest.raises(ValueError, match=">= 0"):
        parse_tiers([{"up_to": None, "unit_amount": "-1"}])


def test_decimal_strings_have_no_exponent():
    assert decimal_string(D("1E-10")) == "0.0000000001"
    assert decimal_string(D("10.000")) == "10" and decimal_string(D("0E-12")) == "0"
