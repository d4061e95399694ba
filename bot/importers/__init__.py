"""Importing subscribers and events from CSV exports (Stripe, Shopify, Chargebee, Recharge,
a generic layout, and an events CSV). See docs/importing.md for the columns each reads."""

from bot.importers.reader import ImportFileError
from bot.importers.service import FORMATS, ImportReport, Rejected, import_file, import_rows

__all__ = ["FORMATS", "ImportFileError", "ImportReport", "Rejected", "import_file", "import_rows"]
