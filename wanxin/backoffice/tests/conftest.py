from .fixtures import _fast_hashing_private_media, private_media  # noqa: F401
