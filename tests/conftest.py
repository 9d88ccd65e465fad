pytest_plugins = [
    "pytester",
    "tests.fixtures.databases",
    "tests.fixtures.redis_keys",
    "tests.fixtures.service_world",
    "tests.fixtures.temp_guard",
]
