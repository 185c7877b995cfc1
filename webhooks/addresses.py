"""Where webhooks may be sent: not to private, loopback or link-local addresses (our own
network) unless MAAS_WEBHOOKS_ALLOW_PRIVATE (development and tests)."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from maas.errors import InvalidRequest


class AddressRefused(ValueError):
    pass


def _refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def addresses_allowed(url: str) -> None:
    """Raises AddressRefused when the URL's host resolves to an address we do not send to."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"{host!r} does not resolve ({exc}).") from None
    if settings.MAAS_WEBHOOKS_ALLOW_PRIVATE:
        return
    for info in infos:
        if _refused(info[4][0]):
            raise AddressRefused(
                f"{host!r} resolves to {info[4][0]}, a private, loopback or link-local address."
            )


def url_checked(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest("url must be an http:// or https:// URL.", param="url")
    try:
        addresses_allowed(url)
    except AddressRefused as exc:
        raise InvalidRequest(f"Webhooks cannot be sent there: {exc}", param="url") from None
    return url
