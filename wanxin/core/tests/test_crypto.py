import pytest
from cryptography.exceptions import InvalidTag

from wanxin.core.crypto import FieldCipher, derive_key

OLD, NEW = derive_key("s", "old"), derive_key("s", "new")


def test_round_trip_rotation_and_tamper():
    old = FieldCipher({"k1": OLD}, current="k1", index_key=b"i")
    token = old.encrypt("11010519491231002X")
    assert "1101051949" not in token
    assert old.decrypt(token) == "11010519491231002X"
    assert old.encrypt("x") != old.encrypt("x")  # random nonce
    rotated = FieldCipher({"k1": OLD, "k2": NEW}, current="k2", index_key=b"i")
    assert rotated.decrypt(token) == "11010519491231002X"
    assert rotated.encrypt("y").startswith("v1:k2:")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises((InvalidTag, ValueError)):
        old.decrypt(tampered)
    assert old.blind_index("a") == rotated.blind_index("a") != old.blind_index("b")
