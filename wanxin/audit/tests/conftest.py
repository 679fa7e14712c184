from wanxin.backoffice.tests.fixtures import _audit_context_cleared, _fast_hashing_private_media  # noqa: F401
