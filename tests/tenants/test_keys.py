from tenants.keys import generate_key, hash_key, key_matches, parse_prefix


def test_generated_key_has_the_documented_shape():
    raw, prefix, secret_hash = generate_key()
    assert raw.startswith("mk_") and len(raw) == 47
    assert raw.startswith(prefix) and len(prefix) == 15
    assert secret_hash == hash_key(raw) and raw not in secret_hash


def test_keys_are_unique():
    assert len({generate_key()[0] for _ in range(200)}) == 200


def test_parse_prefix_accepts_only_well_formed_keys():
    raw, prefix, _ = generate_key()
    assert parse_prefix(raw) == prefix
    for bad in ["", "mk_", raw[:-1], raw + "x", "sk_" + raw[3:], raw[:20] + "!" + raw[21:]]:
        assert parse_prefix(bad) is None, bad


def test_key_matches_only_the_same_key():
    raw, _, secret_hash = generate_key()
    assert key_matches(raw, secret_hash)
    assert not key_matches(raw[:-1] + ("a" if raw[-1] != "a" else "b"), secret_hash)
