"""The page of the randomized differential patch test (``tests.client.test_patch_fuzz``)."""
