"""The HTTP service over a `rag.pipeline.Pipeline`."""
