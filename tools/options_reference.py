"""Write the options reference of docs/logger.md and docs/alerts.md from the code, where each option is documented.

The constructs' arguments come from their class docstrings (``:param name: ...``) and signatures;
each option type's fields from the docstring under each field in ``options.py``. The tables go
between ``<!-- options reference: generated ... -->`` and ``<!-- options reference: end -->``;
tests/unit/docs/test_options_reference.py checks that the pages hold what this writes.

Usage: python tools/options_reference.py   (rewrites the two pages in place)
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "stacks" / "table_stream_logger"
OPTIONS = LIBRARY / "options.py"
# Each page: the construct whose reference it holds, its module, and whether the option types go there too.
PAGES = {
    ROOT / "docs" / "logger.md": ("TableStreamLogger", LIBRARY / "logger.py", True),
    ROOT / "docs" / "alerts.md": ("ChangeAlerts", LIBRARY / "alerts" / "change_alerts.py", False),
}
# The option types whose absence means "none of it": no table to build, no handler of yours, no archive.
ABSENT_WHEN_NONE = {"NewTable", "CustomHandler", "ArchiveOptions"}
SECTION = re.compile(r"(<!-- options reference: generated[^>]*-->\n)(.*?)(<!-- options reference: end -->)", re.DOTALL)


def _text(doc: str) -> str:
    """A docstring as one line of a markdown table cell."""
    return " ".join(doc.split()).replace("``", "`").replace("|", "\\|")


def _default(value: ast.expr) -> str:
    shown = ast.unparse(value)
    return "none" if shown == "None" else f"`{shown}`"


def _class(path: Path, name: str) -> ast.ClassDef:
    (found,) = (
        node for node in ast.parse(path.read_text()).body if isinstance(node, ast.ClassDef) and node.name == name
    )
    return found


def _option_types() -> dict[str, ast.ClassDef]:
    return {
        node.name: node
        for node in ast.parse(OPTIONS.read_text()).body
        if isinstance(node, ast.ClassDef) and any(isinstance(item, ast.AnnAssign) for item in node.body)
    }


def _params(doc: str) -> dict[str, str]:
    """``:param name: text`` of a docstring, by name."""
    return {name: _text(text) for name, text in re.findall(r":param (\w+): (.*?)(?=\n\s*:param |\Z)", doc, re.DOTALL)}


def construct_table(class_name: str, module: Path) -> str:
    """The construct's keyword arguments: default and notes."""
    node = _class(module, class_name)
    params = _params(ast.get_docstring(node) or "")
    (init,) = (item for item in node.body if isinstance(item, ast.FunctionDef) and item.name == "__init__")
    options = _option_types()
    defaults = [None] * (len(init.args.kwonlyargs) - len(init.args.kw_defaults)) + list(init.args.kw_defaults)
    rows = ["| argument | default | notes |", "| --- | --- | --- |"]
    for arg, default in zip(init.args.kwonlyargs, defaults, strict=True):
        annotation = ast.unparse(arg.annotation) if arg.annotation else ""
        kind = annotation.removesuffix(" | None")
        shown = "required" if default is None else _default(default)
        if kind in options and shown == "none" and kind not in ABSENT_WHEN_NONE:
            shown = f"`{kind}()`"
        rows.append(f"| `{arg.arg}` | {shown} | {params.get(arg.arg, '')} |")
    return "\n".join(rows) + "\n"


def option_tables(class_name: str, module: Path) -> str:
    """Each option type the construct takes: its fields, their defaults and what each does."""
    (init,) = (
        item
        for item in _class(module, class_name).body
        if isinstance(item, ast.FunctionDef) and item.name == "__init__"
    )
    options = _option_types()
    out = []
    for arg in init.args.kwonlyargs:
        kind = ast.unparse(arg.annotation).removesuffix(" | None") if arg.annotation else ""
        if kind not in options:
            continue
        node = options[kind]
        summary = _text((ast.get_docstring(node) or "").split("\n\n")[0])
        out += [f"\n`{arg.arg}={kind}(...)`: {summary}\n", "| field | default | notes |", "| --- | --- | --- |"]
        for statement, following in zip(node.body, [*node.body[1:], None], strict=True):
            if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
                continue
            value = following.value if isinstance(following, ast.Expr) else None
            doc = value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else ""
            default = _default(statement.value) if statement.value is not None else "required"
            out.append(f"| `{statement.target.id}` | {default} | {_text(doc)} |")
    return "\n".join(out) + "\n"


def reference(page: Path) -> str:
    """What the page's generated section holds."""
    class_name, module, with_options = PAGES[page]
    text = construct_table(class_name, module)
    return text + option_tables(class_name, module) if with_options else text


def rewrite(page: Path) -> str:
    """The page with its generated section written anew."""
    text = page.read_text()
    if not SECTION.search(text):
        raise SystemExit(f"{page}: no options reference markers")
    return SECTION.sub(lambda match: match.group(1) + reference(page) + match.group(3), text, count=1)


def main() -> int:
    for page in PAGES:
        page.write_text(rewrite(page))
    return 0


if __name__ == "__main__":
    sys.exit(main())
