"""The entry-list importer, kept under its old name for the CLI and existing callers: it
lives in ``server.service.entries_import`` so that ``/control/event`` (server.web, which
may not import the CLI) uploads entries through the very same checks."""

from server.service.entries_import import (
    COLUMNS,
    HEADER,
    EntriesImportError,
    ImportReport,
    RowError,
    import_entries,
)

__all__ = ["COLUMNS", "HEADER", "EntriesImportError", "ImportReport", "RowError", "import_entries"]
