"""The offline engine: landmark-driven warps and colour on the lips, no network and no GPU."""
