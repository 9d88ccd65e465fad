pytest_plugins = [
    "pytester",
    "tests.fixtures.databases",
    "tests.fixtures.password_hashes",
    "tests.fixtures.redis_keys",
    "tests.fixtures.service_world",
    "tests.fixtures.temp_guard",
]
