"""``tanya bench``: latency, memory, build cost and scale, beside a plain LangChain baseline.

Importing this package is light: each section imports what it measures when it runs, so
``tanya --help`` and the other commands never pay for torch, gradio or chromadb.
"""

__all__: list[str] = []
