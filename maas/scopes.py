"""API key scopes (API.md "Scopes"). Tenant views declare the scope each method needs."""

from enum import StrEnum


class Scope(StrEnum):
    READ = "read"  # GET on tenant resources
    WRITE = "write"  # datasets, training and inference jobs, models
    PREDICT = "predict"  # predict calls only
    BILLING = "billing"  # usage, invoices, pricing
    ADMIN = "admin"  # API keys, tenant settings


ALL_SCOPES = tuple(s.value for s in Scope)
