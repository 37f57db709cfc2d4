"""Where the parked batches are, from the command's options: the store and the functions whose
batches they may be (``--stack-name``, ``--bucket``/``--queue-url`` with ``--function-name``, or
``--folder``), and what those functions' configurations say of a batch (its redacted keys)."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._core.record_formats import PARKED_PREFIX
from .errors import RedriveError
from .failure_records import Batch
from .functions import LOGGER_HANDLER
from .stack import Reader, mapped_destination, read_configurations, stack_mappings, stack_resources
from .stores import FolderStore, S3Store, SqsStore


@dataclass
class Target:
    """The parked batches' store and the functions whose batches they may be.

    ``readers`` is empty for a local folder (``--folder``): its batches are only ever replayed
    through the local handler, configured from this process's environment.
    """

    store: S3Store | FolderStore | SqsStore
    readers: dict[str, Reader]
    clients: Callable[[str], Any] | None
    # Functions of the stack whose configuration the caller may not read: why, by name.
    denied: dict[str, str] = field(default_factory=dict)
    # Event source mappings of the stack the caller may not read: why, by UUID.
    hidden: dict[str, str] = field(default_factory=dict)

    def reader_of(self, batch: Batch) -> Reader | None:
        """The function that parked ``batch``, if it is one of the command's; None otherwise."""
        return self.readers.get(batch.function_name)

    def environment_of(self, batch: Batch) -> dict[str, str] | None:
        """The configuration of the function that parked ``batch``: its environment, this process's
        for a local folder, None when unknown (a function the command was not told of)."""
        reader = self.reader_of(batch)
        if reader is not None:
            return reader.environment
        return dict(os.environ) if isinstance(self.store, FolderStore) else None

    def redact(self, batch: Batch) -> list[str] | None:
        """The redacted paths of the function that parked ``batch``; None when unknown."""
        return list_setting(self.environment_of(batch), "REDACT_ATTRIBUTES")

    def keys(self, batch: Batch, record: dict[str, Any]) -> dict[str, str] | None:
        """A record's keys as text, partition key first, ``[REDACTED]`` where redact reaches them."""
        environment = self.environment_of(batch)
        return shown_keys(record, self.redact(batch), list_setting(environment, "KEY_ATTRIBUTES") or [])

    def mapping_denial(self, batch: Batch) -> str | None:
        """Why the caller may not read the stack's event source mapping that parked ``batch``; None
        when it may, or cannot tell: only an S3 key names its mapping (aws/lambda/<mapping>/...)."""
        parts = batch.key.split("/")
        return self.hidden.get(parts[2]) if batch.key.startswith(PARKED_PREFIX) and len(parts) > 2 else None

    def log_group_of(self, batch: Batch) -> str | None:
        reader = self.reader_of(batch)
        return reader.log_group if reader is not None else None


def list_setting(environment: dict[str, str] | None, name: str) -> list[str] | None:
    """A JSON list of a function's environment (else of this process's); None when unknown."""
    if environment is None:
        return None
    raw = environment.get(name, os.environ.get(name))
    if raw is None:
        return None
    try:
        value = json.loads(raw) if raw.strip() else []
    except ValueError:
        return None
    return [str(item) for item in value] if isinstance(value, list) else None


def find_target(arguments: argparse.Namespace, clients: Callable[[], Callable[[str], Any]]) -> Target:
    if arguments.folder is not None:
        return _folder_target(arguments)
    if not (arguments.stack_name or arguments.bucket or arguments.queue_url):
        raise RedriveError("say where the parked batches are: --stack-name, --bucket, --queue-url or --folder")
    if arguments.bucket and arguments.queue_url:
        raise RedriveError("give either --bucket or --queue-url, not both")
    client = clients()
    bucket, queue_url = arguments.bucket, arguments.queue_url
    names: list[str] = []
    hidden: dict[str, str] = {}
    if arguments.stack_name:
        # The app's stack or a library user's alike: its event source mappings say it all.
        mappings, hidden = stack_mappings(client, stack_resources(client("cloudformation"), arguments.stack_name))
        bucket, queue_url, names = mapped_destination(arguments, client, mappings)
    if arguments.function_name:
        names = [arguments.function_name]
    if not names:
        raise RedriveError("no function: give --function-name (the function whose batches these are)")
    store: S3Store | SqsStore = S3Store(client("s3"), bucket) if bucket else SqsStore(client("sqs"), str(queue_url))
    readers, denied = read_configurations(client("lambda"), names)
    return Target(store, readers, client, denied, hidden)


def _folder_target(arguments: argparse.Namespace) -> Target:
    """A local folder's batches (``make local``'s), replayed only through the local handler."""
    if arguments.stack_name or arguments.bucket or arguments.queue_url:
        raise RedriveError("--folder is a place of its own: give it without --stack-name, --bucket or --queue-url")
    # Named, the folder's batches of that function only go through the local handler (the
    # logger's): make local parks the alerts' batches in the same folder.
    name = arguments.function_name
    logger = {name: Reader(name, dict(os.environ), "", LOGGER_HANDLER)} if name else {}
    return Target(FolderStore(arguments.folder), logger, None)


def shown_keys(record: dict[str, Any], redact: list[str] | None, order: list[str]) -> dict[str, str] | None:
    """A record's keys as text, in ``order`` then by name, ``[REDACTED]`` where ``redact`` reaches
    them (all of them when ``redact`` is None: unknown); None when the record has no keys."""
    keys = (record.get("dynamodb") or {}).get("Keys")
    if not isinstance(keys, dict):
        return None
    covered = None if redact is None else {path.split(".", 1)[0] for path in redact}
    names = [name for name in order if name in keys] + sorted(name for name in keys if name not in order)
    shown = {}
    for name in names:
        attribute = keys[name]
        if covered is None or name in covered:
            shown[name] = "[REDACTED]"
        else:
            (value,) = attribute.values() if isinstance(attribute, dict) and len(attribute) == 1 else ("?",)
            shown[name] = str(value)
    return shown
