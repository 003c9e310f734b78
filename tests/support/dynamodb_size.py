"""The size DynamoDB bills for an item (its "Item sizes and formats" rules), from its wire form.

An update is billed by the larger of the item's size before and after it (1 write unit per KB), so
the item's size is what a progress write costs, however little it changes.
"""

from __future__ import annotations

import math
import re


def _number_size(text: str) -> int:
    digits = re.sub(r"[^0-9]", "", text.split("e")[0].split("E")[0]).strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def attribute_size(value: dict) -> int:
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode("utf-8"))
    if kind == "N":
        return _number_size(data)
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + attribute_size(element) for element in data)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + attribute_size(element) for name, element in data.items())
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: element}) for element in data)
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict) -> int:
    return sum(len(name.encode("utf-8")) + attribute_size(value) for name, value in item.items())
