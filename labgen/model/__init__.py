"""The blueprint model: typed, validated, with errors that name file, line and field.

blueprint.py holds the model (each HA protocol's section lives in its module in labgen/protocols/),
labgen/grammar.py the rules of every field that reaches a command, a path or a config file (below
the protocols, which use them too), checks.py the rules across fields, load.py the YAML reading
with line numbers."""
