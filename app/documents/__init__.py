"""Generated documents: Document rows, PDF rendering through WeasyPrint, and the render task."""
