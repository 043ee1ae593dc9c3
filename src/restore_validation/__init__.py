"""Restore validation: checks an instance AWS Backup restore testing restored, and reports it."""
