"""The old image of a MODIFY line of the default log_images, rebuilt (docs/log-format.md shows the section).

tests/unit/docs/test_examples.py runs it on the line the page shows, modify_line.json.
"""

from typing import Any


def old_image_of(line: dict[str, Any]) -> dict[str, Any]:
    # --8<-- [start:rebuild]
    old_image = dict(line["new_image"])
    for name, sides in line["changes"].items():
        if "old" in sides:
            old_image[name] = sides["old"]
        else:
            del old_image[name]
    # --8<-- [end:rebuild]
    return old_image
