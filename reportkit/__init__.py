"""Report pipeline: narrative and data in, versioned accessible PDF editions out.

The stages, in order (see ARCHITECTURE.md):
load -> data -> charts -> compose -> render -> (publish, distribute).
"""

__version__ = '0.1.0'
