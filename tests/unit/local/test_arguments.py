"""`make local ARGS=...`: a mistake on the command line is one line on stderr and exit status 2."""

from __future__ import annotations

import pytest

from local.arguments import build_parser
from local.cli import main


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--endpoint-url", "localhost:8000"],
            "argument --endpoint-url: 'localhost:8000' is not a URL with a scheme: give http:// or https://, "
            "e.g. http://localhost:8000",
        ),
        (["--endpoint-url", "http://"], "argument --endpoint-url: 'http://' is not a URL with a scheme"),
        (["--stack-name"], "argument --stack-name: expected one argument"),
        (["--format", "yaml"], "argument --format: invalid choice: 'yaml'"),
        (["--duration", "soon"], "argument --duration: invalid float value: 'soon'"),
        (["stray"], "unrecognized arguments: stray"),
    ],
)
def test_an_argument_error_is_one_line_and_exit_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(arguments)

    error = capsys.readouterr().err
    assert exit_.value.code == 2
    (line,) = error.splitlines()
    assert line.startswith(f"error: {message}") and line.endswith("(see python -m local --help)")


def test_a_good_endpoint_passes_the_parser() -> None:
    assert build_parser().parse_args(["--endpoint-url", "http://localhost:8000"]).endpoint_url == (
        "http://localhost:8000"
    )
