"""Job definitions: rules, shapes and handlers."""
