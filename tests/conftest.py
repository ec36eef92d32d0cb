pytest_plugins = ["tests.feedserver"]
