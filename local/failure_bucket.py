"""The failure bucket, locally: a bucket in moto's S3, copied into the failure folder.

The logger writes the whole copy of a record too big for one log line to its failure bucket
(``FAILURE_BUCKET``: ``oversized/<table>/<date>/<sequence number>.json``) before it logs the
shortened line that names that object. Locally (on moto, and beside ``--endpoint-url``) the
bucket is a real one in moto's S3, in this process, so the handler's own code runs: its
``put_object``, and its line. As each invocation ends, before its lines are shown, what it
wrote there is copied into the failure folder under the same key, beside the parked batches:
the folder stands for the failure bucket, and moto's bucket is gone with the process.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from local.backend import BackendError


class FailureBucket:
    """A bucket in moto's S3 whose objects are copied into ``folder``, each under its key.

    :param s3: An S3 client of moto's S3, in this process.
    :param name: The bucket's name, created here.
    :param folder: The run's failure folder.
    """

    def __init__(self, s3: Any, name: str, folder: Path) -> None:
        self.s3 = s3
        self.name = name
        self.folder = folder
        s3.create_bucket(Bucket=name)
        self.copied: list[Path] = []
        # Copies that replaced a different file of an earlier run: moto's sequence numbers, and
        # so the keys, start again with each run, where AWS's are never reused.
        self.replaced: set[Path] = set()
        self._etags: dict[str, str] = {}  # what was copied: an object written again is copied again

    def copy_new(self) -> None:
        """Copy the objects written since the last call into the folder (``copied``)."""
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.name):
            for item in page.get("Contents", []):
                key, etag = item["Key"], item["ETag"]
                if self._etags.get(key) == etag:
                    continue
                parts = PurePosixPath(key).parts
                if ".." in parts or PurePosixPath(key).is_absolute():  # never outside the folder
                    raise BackendError(f"s3://{self.name}/{key}: a key that is no path inside {self.folder}")
                path = self.folder.joinpath(*parts)
                body = self.s3.get_object(Bucket=self.name, Key=key)["Body"].read()
                if key not in self._etags and path.exists() and path.read_bytes() != body:
                    self.replaced.add(path)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(body)
                self._etags[key] = etag
                if path not in self.copied:
                    self.copied.append(path)
