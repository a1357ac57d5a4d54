"""Insight's pages (issue 19): each part has its own module and Blueprint (waves.py: hot-topic
waves); nothing is routed here."""
