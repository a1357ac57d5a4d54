"""Appeals (申诉): a department contests a rating, an overdue mark or a reopen of its case."""
