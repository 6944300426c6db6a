"""Population Health Management platform for an NHS integrated care system (Protect NoW)."""
