"""Span convention extractor stub (see spans.py): filled in by issue 3's work."""
