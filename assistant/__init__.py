"""The answering service and its edges (CLI, HTTP API, chat UI).

Importing this package stays light: torch, gradio and chromadb load only when used.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
