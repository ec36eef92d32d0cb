"""The build stage (`listening build`): marts, alerts and campaigns, from the store's raw
tables."""
