"""Weights: fetching, converting and identifying real checkpoints, and tiny random-weight models of the same architectures."""
