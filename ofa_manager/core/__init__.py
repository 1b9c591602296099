"""The engine: catalog, library, transfers, queue, settings and credentials. Never imports Qt."""
