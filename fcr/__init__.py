"""First-contact resolution and repeat-contact metrics on DuckDB."""

__version__ = "0.1.0"
