"""Faces in a photo with dlib: detection, 68 landmarks, identity embeddings, FFHQ alignment and region masks."""
