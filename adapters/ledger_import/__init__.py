"""Ledger import (整改台账导入): an XLSX or CSV ledger checked row by row, recorded all or nothing.

`import_ledger_file` is what the CLI, the API and the web page call; `read_ledger` alone reads a
file into rows. Problems name the row and column as the user sees them in the spreadsheet.
"""

from adapters.ledger_import.importing import LedgerReport, import_ledger_file
from adapters.ledger_import.problems import LedgerFileError, RowProblem
from adapters.ledger_import.reading import LedgerRow, LedgerTable, read_ledger

__all__ = [
    "LedgerFileError",
    "LedgerReport",
    "LedgerRow",
    "LedgerTable",
    "RowProblem",
    "import_ledger_file",
    "read_ledger",
]
