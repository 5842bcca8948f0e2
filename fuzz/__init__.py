"""The API fuzz run (`make fuzz`): schemathesis against a live server."""
