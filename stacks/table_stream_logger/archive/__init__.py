"""The change archive: the ``ChangeArchive`` construct (change_archive.py) and where it keeps the
change lines (layout.py, plain data without CDK, which ``make local`` reads too)."""
