"""The desktop window (PySide6) over the core engine."""
