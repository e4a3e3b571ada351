"""Typed tools bound to one chat session, and the attribute vocabulary they accept."""
