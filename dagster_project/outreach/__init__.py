"""Outreach as the Health Improvement Support Team works: uptake after contact, the demo's
outcomes loop, channels, one conversation per person, capacity and data-quality returns."""
