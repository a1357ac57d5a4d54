"""Try before deploy: run a draft diagram's synthetic cases in a throwaway database and say
where they end or get stuck (docs/try-run.md)."""
