pytest_plugins = ["pytester", "tests.fixtures.databases", "tests.fixtures.temp_guard"]
