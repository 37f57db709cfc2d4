"""The operator command never loads aws-cdk-lib: it starts a Node.js process (jsii), and an operator's
machine has boto3, not the CDK. No module of ``operations/`` imports it, directly or through the
package's other modules (``_core``, ``archive``), not even in a function (``replay --local``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

PACKAGE = ROOT / "stacks" / "table_stream_logger"
CDK = {"aws_cdk", "jsii", "constructs"}


def imports_of(path: Path) -> list[str]:
    """Every module ``path`` imports, at any depth of its code, as absolute names."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            module = f"{base}.{node.module}" if node.level and node.module else (node.module or base)
            # `from . import history`: the names may be modules of the package.
            names += [module, *(f"{module}.{alias.name}" for alias in node.names)]
    return names


def module_file(name: str) -> Path | None:
    """The file of a module of this package; None for anything else (or a name that is no module)."""
    if not name.startswith("stacks.table_stream_logger"):
        return None
    path = ROOT.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def test_no_module_of_the_command_imports_the_cdk_even_indirectly() -> None:
    # GIVEN every module of the command and the entry point
    queue = [*sorted((PACKAGE / "operations").glob("*.py")), PACKAGE / "__main__.py"]
    seen: dict[Path, Path | None] = dict.fromkeys(queue)
    found = []
    # WHEN their imports are followed through the package
    while queue:
        path = queue.pop()
        for name in imports_of(path):
            if name.split(".")[0] in CDK:
                found.append(f"{path.relative_to(ROOT)} imports {name}")
            target = module_file(name)
            if target is not None and target not in seen and target != PACKAGE / "__init__.py":
                seen[target] = path
                queue.append(target)
    # THEN none reaches aws-cdk-lib, jsii or constructs
    assert found == []
    assert PACKAGE / "_core" / "record_formats.py" in seen  # the walk does follow the package


def test_running_the_command_loads_no_cdk() -> None:
    # GIVEN a fresh interpreter WHEN every module of the command is imported
    code = (
        "import importlib, pkgutil, sys\n"
        "import stacks.table_stream_logger.operations as command\n"
        "for module in pkgutil.iter_modules(command.__path__):\n"
        "    importlib.import_module(f'{command.__name__}.{module.name}')\n"
        f"print(sorted(name for name in {sorted(CDK)!r} if name in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    # THEN aws-cdk-lib is not loaded
    assert loaded.stdout == "[]\n"
