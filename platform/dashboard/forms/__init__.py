"""Dashboard forms, one module per concept."""
