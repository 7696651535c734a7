"""Drawing the table graph without system packages.

`layout` places nodes in layers (our own Sugiyama-style layout, pure Python), `style` holds
DataJoint's notation, and `svg`, `mermaid`, `dot` and `draw` turn a laid-out graph into
output. `pipejoint.diagrams.diagram.Diagram` is the user-facing class that feeds them.
"""
