import pytest

# Plain asserts in the shipped contract suite report their operands, as in test modules.
pytest.register_assert_rewrite("ragtune.testing.store_contract")
