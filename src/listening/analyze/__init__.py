"""The analyze stage: brand queries, language, French sentiment toward a brand, aspects."""
