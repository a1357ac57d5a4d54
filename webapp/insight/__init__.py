"""Insight (issue 19): the pages of the words of the cases, surges, duplicate suggestions and
the learned dispatch suggestion."""
