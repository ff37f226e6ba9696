"""`InTransaction`: how a service that reads or writes documents gets a transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from confect.runtime.transaction import Transaction

InTransaction = Callable[[Callable[[Transaction], Any]], Any]
"""Runs a function with a transaction: the caller's own, or (in actions) a fresh one that commits."""
