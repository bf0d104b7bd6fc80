"""The sources an export may name (docs/reports.md, "Export sources"): ``kind`` → the
source. A new kind of export is a new entry here."""

from __future__ import annotations

from reports.exports.orders import OrdersSource
from reports.exports.sheets import Source

SOURCES: dict[str, Source] = {source.kind: source for source in (OrdersSource(),)}
