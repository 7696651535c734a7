"""Stores for tests: a local directory, and S3 served on loopback by moto's server mode.

The moto server is a real S3-compatible HTTP server (no mocks of our code): it starts once per
test process on a free port and stops at exit.
"""

from __future__ import annotations

import atexit
import os
import socket
import uuid

import pytest

import pipejoint as dj

_server = {}
STORE_KINDS = ("file", "s3")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def s3_endpoint():
    """host:port of the moto server, started on first use."""
    if "endpoint" not in _server:
        try:
            from moto.server import ThreadedMotoServer
        except ModuleNotFoundError:
            message = 'S3 store tests need moto\'s server: pip install "moto[server]" s3fs boto3'
            if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
                pytest.fail(message)
            pytest.skip(message)
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        port = _free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        atexit.register(server.stop)
        _server["endpoint"] = f"127.0.0.1:{port}"
    return _server["endpoint"]


def store_spec(kind, tmp_path):
    """A fresh, empty store of the given kind."""
    if kind == "file":
        location = tmp_path / "store"
        location.mkdir(exist_ok=True)
        return {"protocol": "file", "location": str(location)}
    endpoint = s3_endpoint()
    import boto3

    bucket = f"pj-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=f"http://{endpoint}", aws_access_key_id="testing",
                 aws_secret_access_key="testing", region_name="us-east-1").create_bucket(Bucket=bucket)
    return {"protocol": "s3", "endpoint": endpoint, "bucket": bucket, "location": "lab/data",
            "access_key": "testing", "secret_key": "testing", "secure": False}


@pytest.fixture(params=STORE_KINDS)
def store(request, tmp_path):
    """The name of a configured, empty store ('main', also the default) of each kind."""
    spec = store_spec(request.param, tmp_path)
    with dj.config.override(stores={"default": "main", "main": spec}, download_path=str(tmp_path / "downloads")):
        yield "main"


def stored_files(name="main", prefix=""):
    """Relative paths of every file in the store (under prefix)."""
    from pipejoint.storage.stores import get_store

    return sorted(get_store(name).walk_files(prefix))
