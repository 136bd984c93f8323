"""The CLI's commands, one module per family; each has `register(group)`."""
