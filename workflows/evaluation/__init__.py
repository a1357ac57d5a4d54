"""Evaluation (考核): department scorecards, rankings and the monthly bulletin (通报)."""
