"""Storage faults for tests, made as real as this machine allows.

* `read_only_dir`: a directory nobody can create files in. chmod is enough for an ordinary user;
  root ignores permissions, so for root the directory is made immutable (``chattr +i``, the
  filesystem refusing every change). Where neither works the test is skipped, saying why.
* `corrupt`: a file overwritten with bytes that are not a SQLite database.
* `dynamodb_throttled`: DynamoDB answering ``ProvisionedThroughputExceededException``. dynalite
  cannot throttle, so a botocore ``before-send`` hook answers in its place, with the status,
  headers and JSON body DynamoDB sends; botocore parses it and retries it exactly as it would the
  real one (its standard mode, throttling backoff and all).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def _writable(directory: Path) -> bool:
    probe = directory / ".probe"
    try:
        probe.touch()
    except OSError:
        return False
    probe.unlink()
    return True


@contextlib.contextmanager
def read_only_dir(directory: Path) -> Iterator[Path]:
    """`directory` (which must exist) read-only inside the block; writable again after it."""
    mode = directory.stat().st_mode
    directory.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    immutable = False
    try:
        if _writable(directory) and os.geteuid() == 0 and shutil.which("chattr"):
            result = subprocess.run(["chattr", "+i", str(directory)], capture_output=True)
            immutable = result.returncode == 0
        if _writable(directory):
            pytest.skip("cannot make a directory read-only here (root without chattr +i)")
        yield directory
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(directory)], check=True)
        directory.chmod(mode)


def corrupt(path: Path) -> None:
    """Overwrite a file (a SQLite database and its WAL files) with garbage."""
    for extra in ("-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 200)


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


class Throttle:
    """Answers the first `times` calls of `operation` as a throttled DynamoDB would."""

    def __init__(self, operation: str, times: int) -> None:
        self.operation = operation
        self.left = times
        self.answered = 0

    def __call__(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        if self.left <= 0:
            return None  # the request goes on to dynalite
        self.left -= 1
        self.answered += 1
        body = json.dumps({
            "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            "message": "The level of configured provisioned throughput for the table was "
                       "exceeded. Consider increasing your provisioning level with the "
                       "UpdateTable API.",
        }).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "THROTTLE"}
        return AWSResponse(request.url, 400, headers, _Body(body))


@contextlib.contextmanager
def dynamodb_throttled(operation: str, times: int) -> Iterator[Throttle]:
    """Throttle `operation` ("PutItem") `times` times on every DynamoDB client that boto3's
    default session makes from now on (make the store inside the block)."""
    import boto3

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    throttle = Throttle(operation, times)
    event = f"before-send.dynamodb.{operation}"
    boto3.DEFAULT_SESSION.events.register(event, throttle)
    try:
        yield throttle
    finally:
        boto3.DEFAULT_SESSION.events.unregister(event, throttle)
