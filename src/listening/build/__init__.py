"""The build stage: marts, alerts and campaigns, from the store's raw tables."""
