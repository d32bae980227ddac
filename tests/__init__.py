"""The test suite. A package, so that shared helpers are imported normally (``tests.helpers``)."""
