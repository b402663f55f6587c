"""The ``http-sfv`` types authsig uses, imported from the modules that define them (the package
root re-exports them without declaring it, which ``mypy --strict`` refuses)."""

from __future__ import annotations

from http_sfv.dictionary import Dictionary as Dictionary
from http_sfv.item import InnerList as InnerList
from http_sfv.item import Item as Item
from http_sfv.types import Token as Token

__all__ = ["Dictionary", "InnerList", "Item", "Token"]
