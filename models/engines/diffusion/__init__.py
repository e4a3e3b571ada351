"""The ChatFace diffusion engine: DDIM inversion, the U-Net split at h-space, attribute networks, and their loading."""
