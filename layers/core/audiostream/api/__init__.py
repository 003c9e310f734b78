"""What the HTTP functions do: check a start request, record the session and hand it to generate,
describe a session's status, cancel it, list the engines, and answer every error as JSON. Never
imports ``generation``: the API hands work over through the invoker."""
