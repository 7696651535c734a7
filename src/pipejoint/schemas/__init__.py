"""Schemas: dj.Schema (the decorator that declares classes), virtual modules, and classes made from what a database holds."""
