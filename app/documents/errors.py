"""Errors of PDF rendering, below both the renderer and the font check (so neither imports the other back)."""


class DocumentRenderError(Exception):
    """Rendering failed; str() says why in words an operator can act on."""
