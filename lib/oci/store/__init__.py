"""The state store (see store.py for the layout and the locking rules)."""

from oci.store.store import KINDS, Store, Transaction, hardware_digest, register_listing_view

__all__ = ["KINDS", "Store", "Transaction", "hardware_digest", "register_listing_view"]
