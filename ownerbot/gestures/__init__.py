"""Domain: frugal-wow proposals, votes, deadlines, budget."""
