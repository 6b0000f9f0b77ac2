"""An upload over max_upload_mb is refused before it is read, clearly."""

from __future__ import annotations

import os

import pytest

from zordon.client import BadRequest

pytestmark = pytest.mark.real


def test_an_upload_over_the_limit_is_refused_naming_the_setting(start_server, tmp_path):
    server = start_server(ZORDON_MAX_UPLOAD_MB="1")
    big = tmp_path / "big.blend"
    big.write_bytes(os.urandom(2 * 1024 * 1024))

    with pytest.raises(BadRequest, match="max_upload_mb") as refused:
        server.proxy().create_job({}, big)

    assert refused.value.status == 413
    assert server.proxy().get_jobs() == []
