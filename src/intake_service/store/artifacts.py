"""The artifact store: artifact bytes of the ML-workbench API.

A directory under the data dir by default (`<data_dir>/artifacts`, or `file:///path`), or an
S3-compatible bucket for `ARTIFACT_STORE_URL=s3://bucket/prefix` through boto3 (credentials, region
and endpoint from the usual AWS_* variables, e.g. AWS_ENDPOINT_URL_S3 for MinIO or another S3 server).
Keys are relative (`<workspace>/<experiment>/<run>/<path>`); each store maps them to its own place.
Blocking I/O runs off the event loop; every failure becomes errors.ArtifactStoreUnavailable, except
what a caller's path does to the local store (ArtifactPathRefused: a 4xx, not a store failure).
"""

import asyncio
import errno
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlparse

from intake_service.errors import ArtifactPathRefused, ArtifactStoreUnavailable

if TYPE_CHECKING:
    from intake_service.settings import Settings

logger = logging.getLogger(__name__)


# What a path can run into on a file system, by errno: mkdir meets a file where a folder is needed
# (EEXIST, ENOTDIR), a file would replace a folder of other artifacts (EISDIR), or a symbolic link
# loops (ELOOP). Segments too long for a file name are refused before (values.check_artifact_path).
_FILE_IN_THE_WAY = (409, "runs through another artifact: a file cannot also be a folder")
PATH_PROBLEMS = {
    errno.EEXIST: _FILE_IN_THE_WAY,
    errno.ENOTDIR: _FILE_IN_THE_WAY,
    errno.EISDIR: (409, "is a folder holding other artifacts: a folder cannot also be a file"),
    errno.ELOOP: (409, "runs through a symbolic link loop in the artifact store"),
}
OUTSIDE_THE_STORE = (409, "leads outside the artifact store (through a symbolic link)")


class ArtifactMissing(Exception):
    """The store has no object under the key."""


class ArtifactStore(Protocol):
    def location(self, key: str) -> str:
        """Where a key lives, as reported to callers (the bucket key for S3)."""
        ...

    async def write(self, key: str, data: bytes, content_type: str) -> None: ...

    async def read(self, key: str) -> bytes: ...

    async def delete_prefix(self, prefix: str) -> None:
        """Remove every object under `prefix` (a relative key ending in '/')."""
        ...


def _checked(key: str) -> str:
    parts = key.split("/")
    if (
        not key
        or key.startswith("/")
        or any(part in ("", ".", "..") for part in parts[:-1])
        or parts[-1] in (".", "..")
    ):
        raise ValueError(f"unsafe artifact key {key!r}")
    return key


class LocalArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def location(self, key: str) -> str:
        return key

    def _path(self, key: str) -> Path:
        try:
            path = (self.root / _checked(key)).resolve()
        except RuntimeError:  # a symbolic link loop (Python 3.11 raises this, later ones OSError)
            raise ArtifactPathRefused(*PATH_PROBLEMS[errno.ELOOP]) from None
        if self.root not in path.parents:
            raise ArtifactPathRefused(*OUTSIDE_THE_STORE)
        return path

    def _write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        # The store's own directory failing is the store's fault (503), not the caller's path's.
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write aside, then rename: a reader never sees half a file.
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        except OSError as exc:
            if refused := _refused(exc):
                raise refused from exc
            raise
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)
        except BaseException as exc:
            Path(temporary).unlink(missing_ok=True)
            if isinstance(exc, OSError) and (refused := _refused(exc)):
                raise refused from exc
            raise

    def _read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ArtifactMissing(key) from None

    def _delete_prefix(self, prefix: str) -> None:
        folder = self._path(prefix.rstrip("/"))
        if folder.is_dir():
            shutil.rmtree(folder)

    async def write(self, key: str, data: bytes, content_type: str) -> None:
        await _guarded(self._write, key, data)

    async def read(self, key: str) -> bytes:
        return await _guarded(self._read, key)

    async def delete_prefix(self, prefix: str) -> None:
        await _guarded(self._delete_prefix, prefix)


def _refused(exc: OSError) -> ArtifactPathRefused | None:
    """The caller's 4xx for what its path ran into; None for a failure of the store."""
    problem = PATH_PROBLEMS.get(exc.errno or 0)
    return ArtifactPathRefused(*problem) if problem else None


class S3ArtifactStore:
    def __init__(self, bucket: str, prefix: str, client: Any = None) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        # S3-compatible servers (MinIO, Ceph, moto) behind a custom endpoint want path-style URLs.
        custom_endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        config = Config(
            connect_timeout=5,
            read_timeout=60,
            retries={"max_attempts": 3},
            s3={"addressing_style": "path" if custom_endpoint else "auto"},
        )
        self.client = client or boto3.client("s3", config=config)

    def location(self, key: str) -> str:
        return f"{self.prefix}/{_checked(key)}" if self.prefix else _checked(key)

    def _write(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.location(key), Body=data, ContentType=content_type)

    def _read(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.location(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise ArtifactMissing(key) from None
            raise

    def _delete_prefix(self, prefix: str) -> None:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.location(prefix.rstrip("/")) + "/"):
            objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if objects:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})

    async def write(self, key: str, data: bytes, content_type: str) -> None:
        await _guarded(self._write, key, data, content_type)

    async def read(self, key: str) -> bytes:
        return await _guarded(self._read, key)

    async def delete_prefix(self, prefix: str) -> None:
        await _guarded(self._delete_prefix, prefix)


async def _guarded(function: Any, *args: Any) -> Any:
    try:
        return await asyncio.to_thread(function, *args)
    except (ArtifactMissing, ArtifactPathRefused):
        raise
    except Exception as exc:
        logger.warning("Artifact store call failed: %s", exc)
        raise ArtifactStoreUnavailable() from exc


def open_artifact_store(settings: "Settings") -> ArtifactStore:
    url = settings.artifact_store_url
    if url and url.startswith("s3://"):
        parsed = urlparse(url)
        return S3ArtifactStore(parsed.netloc, parsed.path)
    if url and url.startswith("file://"):
        return LocalArtifactStore(Path(unquote(urlparse(url).path)))
    return LocalArtifactStore(settings.data_dir / "artifacts")
