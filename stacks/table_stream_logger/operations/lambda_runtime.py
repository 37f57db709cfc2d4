"""Run a function the way Lambda's Python runtime runs it: AWS's runtime client, in a process of its own.

Lambda starts an execution environment for a function: a process whose environment holds the
function's variables and the ones Lambda reserves (``_HANDLER``, ``AWS_LAMBDA_LOG_LEVEL``, ...),
in which the runtime interface client imports the handler once (the cold start) and then asks
the Runtime API for one invocation after another, answering each with a response or an error.
This module does the same on this machine:

- :func:`lambda_environment` (lambda_environment.py) derives, from the function's configuration, the variables Lambda
  sets (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
  ``AWS_LAMBDA_LOG_FORMAT`` and ``AWS_LAMBDA_LOG_LEVEL`` as its ``LoggingConfig`` implies them;
- :class:`LambdaRuntime` serves the Runtime API (``/2018-06-01/runtime/invocation/next``, its
  ``response`` and ``error``, ``init/error``, with the headers Lambda sends) on a local port,
  and runs ``python -m awslambdaric <handler>`` (``awslambdaric``, the runtime interface client
  AWS publishes for its Python runtime) in the function's code folder, kept warm between
  invocations. An invocation that outlasts the timeout is stopped with its process, as Lambda
  stops the environment, and the next one starts a new process.

What the process writes (stdout and stderr) is returned with each invocation: the lines Lambda
sends to the function's log stream, before its log-level filtering. Not reproduced: the memory
limit, the 6 MB payload limit, layers (the handler's libraries are those of ``python``), and
Lambda's own platform lines (``START``, ``REPORT``).
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import json
import os
import queue
import secrets
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .lambda_environment import DEFAULT_TIMEOUT_S, PASSED_THROUGH, FunctionConfig, lambda_environment, log_stream_name

API = "/2018-06-01/runtime"
# Lambda's init phase of an on-demand function may take 10 s, apart from its timeout.
INIT_TIMEOUT = 10.0


class FunctionError(Exception):
    """The invocation failed as Lambda reports it: ``FunctionError: Unhandled`` and an error payload.

    :param payload: What the runtime posted, e.g. ``{"errorType": "KeyError", "errorMessage": ...}``.
    """

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.error_type = str(payload.get("errorType", "Unknown"))
        super().__init__(f"{self.error_type}: {payload.get('errorMessage', '')}")


@dataclass
class Invocation:
    """One invocation's result: the response (or the error) and the lines the process wrote."""

    request_id: str
    response: Any = None
    error: dict[str, Any] | None = None
    lines: list[str] = field(default_factory=list)
    cold_start: bool = False
    duration: float = 0.0


class _Api:
    """The Runtime API's state for one execution environment: one invocation at a time."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[str, bytes, dict[str, str]] | None] = queue.Queue()
        self.results: dict[str, tuple[str, Any]] = {}
        self.init_error: dict[str, Any] | None = None
        self.fetched: dict[str, float] = {}
        self.timeout: float = DEFAULT_TIMEOUT_S
        self.function_arn = ""
        # Written to wake the caller when a result (or an init error) arrives.
        self.wake_read, self.wake_write = os.pipe()

    def done(self, request_id: str | None, kind: str, body: bytes) -> None:
        try:
            value = json.loads(body) if body else None
        except ValueError:
            value = {"errorType": "Runtime.InvalidResponse", "errorMessage": "the response is not JSON"}
        if request_id is None:
            self.init_error = value if isinstance(value, dict) else {"errorType": "Runtime.Unknown"}
        else:
            self.results[request_id] = (kind, value)
        os.write(self.wake_write, b".")


def _handler_class(api: _Api) -> type[BaseHTTPRequestHandler]:
    class RuntimeApiHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # no access log on stderr
            pass

        def _reply(self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path != f"{API}/invocation/next":
                self._reply(404, b'{"errorType":"NotFound"}')
                return
            item = api.events.get()  # this process's queue: a new process gets a new one
            if item is None:  # the environment is shutting down
                self._reply(500, b'{"errorType":"Shutdown"}')
                return
            request_id, body, headers = item
            api.fetched[request_id] = time.time()
            deadline_ms = int((time.time() + api.timeout) * 1000)
            self._reply(200, body, {**headers, "Lambda-Runtime-Deadline-Ms": str(deadline_ms)})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = self.path.removeprefix(API + "/").split("/")
            if parts == ["init", "error"]:
                api.done(None, "init", body)
            elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                api.done(parts[1], parts[2], body)
            else:
                self._reply(404, b'{"errorType":"NotFound"}')
                return
            self._reply(202, b'{"status":"OK"}')

    return RuntimeApiHandler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a process stopped at a timeout leaves its connection reset, as expected."""


class LambdaRuntime:
    """One execution environment of a function: a local Runtime API and an ``awslambdaric`` process.

    :param config: The function's configuration.
    :param environment: Variables added to Lambda's, as a deployed function gets its role's
        credentials: e.g. local endpoints (``AWS_ENDPOINT_URL_S3``) and dummy credentials. By
        default, the credentials in this process's environment.
    :param python: The interpreter that runs the runtime client. Default: this one.
    """

    def __init__(
        self,
        config: FunctionConfig,
        *,
        environment: Mapping[str, str] | None = None,
        python: str = sys.executable,
        clock: Any = time.time,
    ) -> None:
        self.config = config
        self.extra = (
            dict(environment)
            if environment is not None
            else {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
        )
        self.python = python
        self.clock = clock
        self.api = _Api()
        self.api.timeout = config.timeout
        self.server = _Server(("127.0.0.1", 0), _handler_class(self.api))
        threading.Thread(target=self.server.serve_forever, name="lambda-runtime-api", daemon=True).start()
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.process: subprocess.Popen[bytes] | None = None
        self.environment: dict[str, str] = {}
        self._pending = bytearray()
        self.cold_starts = 0
        atexit.register(self._stop)  # no process outlives this one, whatever stops it

    # --- the process --------------------------------------------------------------------
    def _start(self) -> None:
        self.environment = {
            **self.extra,
            **lambda_environment(self.config, self.address, log_stream_name(self.clock())),
            # Lambda's task root is read-only: nothing may be written into the asset, which
            # `cdk deploy` would upload with it.
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.api.init_error = None
        self.api.events = queue.Queue()
        self.process = subprocess.Popen(
            [self.python, "-m", "awslambdaric", self.config.handler],
            cwd=self.config.code,
            env=self.environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # A group of its own: stopped whole at a timeout, and not sent the terminal's Ctrl-C.
            start_new_session=True,
        )
        assert self.process.stdout is not None
        os.set_blocking(self.process.stdout.fileno(), False)
        self.cold_starts += 1

    def _stop(self) -> None:
        if self.process is None:
            return
        self.api.events.put(None)  # releases a request for the next invocation the process left waiting
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._read_available()
        assert self.process.stdout is not None
        self.process.stdout.close()
        self.process = None

    def close(self) -> None:
        """Stop the process and the Runtime API."""
        atexit.unregister(self._stop)
        self._stop()
        self.server.shutdown()
        self.server.server_close()
        os.close(self.api.wake_read)
        os.close(self.api.wake_write)

    def __enter__(self) -> LambdaRuntime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- one invocation ----------------------------------------------------------------
    def invoke(self, event: Any, *, request_id: str | None = None) -> Invocation:
        """Invoke the function with ``event`` and wait for its response, its error or its timeout."""
        request_id = request_id or str(uuid.uuid4())
        cold = self.process is None or self.process.poll() is not None
        if cold:
            self._stop()
            self._start()
        started = time.monotonic()
        trace = f"Root=1-{int(self.clock()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"
        headers = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Invoked-Function-Arn": self.config.arn,
            "Lambda-Runtime-Trace-Id": trace,
        }
        self.api.events.put((request_id, json.dumps(event).encode(), headers))
        result = Invocation(request_id, cold_start=cold)
        result.error = self._wait(request_id, init_deadline=time.monotonic() + INIT_TIMEOUT if cold else None)
        if result.error is None:
            kind, value = self.api.results.pop(request_id)
            if kind == "error":
                result.error = value if isinstance(value, dict) else {"errorType": "Runtime.Unknown"}
            else:
                result.response = value
        self.api.fetched.pop(request_id, None)
        result.lines = self._take_lines(final=self.process is None)
        result.duration = time.monotonic() - started
        return result

    def __call__(self, event: Any, context: Any) -> Any:
        """The handler's signature, for the event source mapping: a function error raises."""
        result = self.invoke(event, request_id=getattr(context, "aws_request_id", None))
        if result.error is not None:
            raise FunctionError(result.error)
        return result.response

    def _wait(self, request_id: str, init_deadline: float | None) -> dict[str, Any] | None:
        """Read the process's output until the invocation ends; the error if it did not respond."""
        assert self.process is not None and self.process.stdout is not None
        out = self.process.stdout.fileno()
        while True:
            if request_id in self.api.results:
                self._read_available()  # written before the response: in the pipe already
                return None
            if self.api.init_error is not None:
                error = self.api.init_error
                self._exit_after_init_error()
                return error
            fetched = self.api.fetched.get(request_id)
            now = time.monotonic()
            if fetched is not None:
                remaining = fetched + self.config.timeout - self.clock()
            else:
                remaining = (init_deadline - now) if init_deadline is not None else self.config.timeout
            if remaining <= 0:
                return self._timed_out(request_id, init=fetched is None)
            ready, _, _ = select.select([out, self.api.wake_read], [], [], min(remaining, 1.0))
            if self.api.wake_read in ready:
                os.read(self.api.wake_read, 4096)
            if out in ready and not self._read_available():
                # End of output: the process exited without answering.
                if request_id in self.api.results or self.api.init_error is not None:
                    continue
                status = self.process.wait()
                self._stop()
                return {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status {status}",
                }

    def _read_available(self) -> bool:
        """Read what the process wrote so far; False at the end of its output."""
        if self.process is None or self.process.stdout is None or self.process.stdout.closed:
            return False
        while True:
            try:
                chunk = os.read(self.process.stdout.fileno(), 65536)
            except BlockingIOError:
                return True
            except OSError as error:
                if error.errno == errno.EBADF:
                    return False
                raise
            if not chunk:
                return False
            self._pending += chunk

    def _exit_after_init_error(self) -> None:
        """awslambdaric exits after posting an init error: wait for it, keep what it wrote."""
        assert self.process is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self._stop()

    def _timed_out(self, request_id: str, *, init: bool) -> dict[str, Any]:
        self._stop()
        seconds = INIT_TIMEOUT if init else self.config.timeout
        moment = datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"{moment} {request_id} Task timed out after {seconds:.2f} seconds",
        }

    def _take_lines(self, *, final: bool) -> list[str]:
        """The complete lines written so far (all of it when the process is gone)."""
        text = bytes(self._pending)
        end = len(text) if final else text.rfind(b"\n") + 1
        self._pending = bytearray(text[end:])
        # Lambda cuts what a function writes to stdout into log events at each newline.
        lines = text[:end].decode(errors="replace").split("\n")
        return lines[:-1] if lines and not lines[-1] else lines
