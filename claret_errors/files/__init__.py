"""Files this tool writes: atomic writes, CSVs for Claret and for people, pretty JSON text."""
