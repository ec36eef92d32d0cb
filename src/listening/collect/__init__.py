"""The collect stage: what is due, fetching, parsing feeds and pages, staging files."""
