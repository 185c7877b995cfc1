"""API key format, generation and checking.

A key is `mk_` + 12 public characters (the prefix, used to find the row) + 32 secret characters,
all base62: 47 characters, ~190 bits of secret. Invariants:
- the key itself is never stored, only `sha256(key)`: a database leak yields no usable key;
- the hash is compared in constant time (hmac.compare_digest), so timing tells nothing;
- plain SHA-256 suffices (no slow KDF) because the secret is random, not a human password.
"""

import hashlib
import hmac
import re
import secrets
import string

KEY_PREFIX = "mk_"
_ALPHABET = string.ascii_letters + string.digits
_PUBLIC_CHARS = 12
_SECRET_CHARS = 32
_KEY_RE = re.compile(
    rf"^{KEY_PREFIX}([A-Za-z0-9]{{{_PUBLIC_CHARS}}})[A-Za-z0-9]{{{_SECRET_CHARS}}}$"
)


def _random(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_key() -> tuple[str, str, str]:
    """A new key: (raw key to show once, public prefix to store, hash to store)."""
    public = _random(_PUBLIC_CHARS)
    raw = KEY_PREFIX + public + _random(_SECRET_CHARS)
    return raw, KEY_PREFIX + public, hash_key(raw)


def parse_prefix(raw_key: str) -> str | None:
    """The stored prefix of a well-formed key, or None if it cannot be one of ours."""
    match = _KEY_RE.match(raw_key)
    return KEY_PREFIX + match.group(1) if match else None


def key_matches(raw_key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(raw_key), stored_hash)
