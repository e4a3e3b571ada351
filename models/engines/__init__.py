"""Engines: the parts that render an edit, one sub-package or module per engine, and the catalog that picks one by name."""
