"""Evaluation of intent parsing on dialogue sets and of edit quality on photo sets."""
