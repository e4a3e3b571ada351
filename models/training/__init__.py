"""Training attribute networks in h-space with ChatFace's losses."""
