"""Where this package's Lambda handlers are: a path, no CDK.

The constructs build their functions' assets from this folder (stream_consumer.py);
``python -m table_stream_logger replay --local`` runs the logger's handler from it.
"""

from __future__ import annotations

from pathlib import Path


def handler_asset_dir(handler_file: str = "stream_logger.py") -> Path:
    """The directory of this package's handlers (``stream_logger.py``, ``change_alerts.py``, ...).

    Found from this file, never from the current directory, so that ``cdk`` runs from anywhere:

    - installed from the wheel, the handler files are packaged in the package's folder, in
      ``table_stream_logger/lambda/`` (pyproject.toml's ``force-include``), one folder up;
    - in the repository, this module is ``stacks/table_stream_logger/_core/handler_assets.py`` and
      the handlers are the top-level ``lambda/``, three folders up.
    """
    here = Path(__file__).resolve()
    candidates = (here.parents[1] / "lambda", here.parents[3] / "lambda")
    for candidate in candidates:
        if (candidate / handler_file).is_file():
            return candidate
    raise FileNotFoundError(
        f"The handler {handler_file} of table-stream-logger is missing: looked in "
        f"{' and '.join(str(path) for path in candidates)}. Reinstall the table-stream-logger package, "
        "or give your own handler: handler=CustomHandler(code=..., handler=...)."
    )
