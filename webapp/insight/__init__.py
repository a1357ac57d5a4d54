"""Insight's pages (issue 19): each part has its own module and Blueprint (duplicates.py,
waves.py, topics.py, ...); nothing is routed here."""
