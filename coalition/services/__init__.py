"""The rules of the domain: plain functions that validate, write and return results."""
