"""Assistants: `pipejoint mcp`, a Model Context Protocol server that lets an AI assistant read a
pipeline (definitions, diagram, queries, progress). It uses the public API only (`import pipejoint
as dj`), as any user's program would, so it cannot reach what a user could not.
"""
