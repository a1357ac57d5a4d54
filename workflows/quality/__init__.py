"""Operator quality review (质检): per-operator and per-dispatcher monthly figures, a monthly
random sample of each operator's cases, reviews on the centre's scoring sheet, disputes."""
