"""Insight (issue 19): the words of the cases, the areas they come from, surges of calls on one
topic, duplicate suggestions and the dispatch model learned from the centre's history."""
