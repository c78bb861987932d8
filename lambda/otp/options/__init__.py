"""The configuration schema: each option declared once (schema.py), how it is declared (declaration.py),
the kinds of values (kinds.py) and the rules between options (rules.py). Dependency-free and imported
with relative imports only, so that the construct library loads it from its copy of the Lambda code."""
