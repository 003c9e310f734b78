"""What the tests share: paths, the test environment, fakes of remote services, stack and session helpers."""
