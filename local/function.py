"""The function's handler, imported and called the way Lambda's Python runtime does."""

from __future__ import annotations

import importlib
import io
import json
import os
import secrets
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path
from types import ModuleType
from typing import Any

from aws_lambda_powertools import Logger

from local import LAMBDA_DIR


def load_handler(handler: str, environment: dict[str, str], lambda_dir: Path = LAMBDA_DIR) -> tuple[Any, ModuleType]:
    """Import ``module.function`` from ``lambda_dir`` with the function's environment set first.

    The handler module reads its configuration at import, as it would in Lambda, so the
    environment goes into ``os.environ`` before the import, and the module is imported anew
    even if this process imported it before (a test session does). A module imported before
    is put back in ``sys.modules`` afterwards, so its other users keep theirs.
    """
    module_name, _, function_name = handler.rpartition(".")
    os.environ.update(environment)
    if str(lambda_dir) not in sys.path:
        sys.path.insert(0, str(lambda_dir))
    previous = sys.modules.pop(module_name, None)
    try:
        module = importlib.import_module(module_name)
    finally:
        if previous is not None:
            sys.modules[module_name] = previous
    function = getattr(module, function_name, None)
    if not callable(function):
        raise AttributeError(f"{lambda_dir / (module_name + '.py')} has no function {function_name!r}")
    return function, module


class CapturedHandler:
    """Calls the handler and hands what it writes to ``sink``, one list of lines per invocation.

    In Lambda, whatever the function writes to stdout becomes its log lines. Here stdout is
    captured around each call, and so are the streams of the module's Powertools loggers,
    which hold on to the stdout of the moment they were created. An exception is logged as
    the runtime logs it (``errorType``, ``errorMessage``) and raised again.

    ``logged`` collects the ``sequence_number`` of every record the handler logged at INFO,
    so that the run can check that each delivered record shows in the logs.
    """

    def __init__(self, handler: Callable[[Any, Any], Any], module: ModuleType, sink: Callable[[list[str]], None]):
        self.handler = handler
        self.sink = sink
        self.log_handlers = [value.registered_handler for value in vars(module).values() if isinstance(value, Logger)]
        self.logged: set[str] = set()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        buffer = io.StringIO()
        streams = [handler.setStream(buffer) for handler in self.log_handlers]  # type: ignore[attr-defined]
        # Lambda sets a new X-Ray trace ID for every invocation.
        os.environ["_X_AMZN_TRACE_ID"] = (
            f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"
        )
        try:
            with redirect_stdout(buffer):
                return self.handler(event, context)
        except Exception as error:
            buffer.write(
                json.dumps(
                    {
                        "errorType": type(error).__name__,
                        "errorMessage": str(error),
                        "requestId": getattr(context, "aws_request_id", ""),
                        "stackTrace": traceback.format_tb(error.__traceback__),
                    }
                )
                + "\n"
            )
            raise
        finally:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
            for handler, stream in zip(self.log_handlers, streams, strict=True):
                handler.setStream(stream)  # type: ignore[attr-defined]
            lines = buffer.getvalue().splitlines()
            self._note(lines)
            self.sink(lines)

    def _note(self, lines: list[str]) -> None:
        for line in lines:
            if '"sequence_number"' not in line:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict) and entry.get("level") == "INFO" and entry.get("sequence_number"):
                self.logged.add(str(entry["sequence_number"]))
