"""SQL-backed session memory: sessions, messages, the edit tree, checksummed blobs, self-check attempts."""
