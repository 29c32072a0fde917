"""The evaluation suite: score cited answers against known facts."""
