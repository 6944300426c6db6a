"""Helpers shared by more than one area (NHS numbers, paths)."""
