"""Load: read contact and customer exports, map them to the canonical columns, quarantine bad rows."""
