"""Protect NoW cohorts: the project registry (projects.yaml), governed publication per
project (write-audit-publish, small-number suppression, report), re-identification for
approved direct care from the identity zone only, and the audit log."""
